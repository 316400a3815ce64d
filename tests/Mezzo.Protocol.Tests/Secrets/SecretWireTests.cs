using System.Text;
using Google.Protobuf;
using Mezzo.Protocol.Protobuf;
using Mezzo.Protocol.Secrets;
using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Tests.Secrets;

/// <summary>mesos.proto's Environment.Variable.secret and Secret on the wire, their validation, and their redaction.</summary>
public sealed class SecretWireTests
{
    private const string TaskJson = """
        {"name":"t","task_id":{"value":"t1"},
         "command":{"value":"echo","environment":{"variables":[
            {"name":"PLAIN","type":"VALUE","value":"visible"},
            {"name":"PASSWORD","type":"SECRET","secret":{"type":"VALUE","value":{"data":"aHVudGVyMg=="}}},
            {"name":"TOKEN","type":"SECRET","secret":{"type":"REFERENCE","reference":{"name":"team/db","key":"token"}}}]}},
         "container":{"type":"MESOS","volumes":[{"mode":"RO","container_path":"s","source":{"type":"SECRET","secret":{"type":"VALUE","value":{"data":"aHVudGVyMg=="}}}}]},
         "health_check":{"type":"COMMAND","command":{"value":"true","environment":{"variables":[
            {"name":"P","type":"SECRET","secret":{"type":"VALUE","value":{"data":"aHVudGVyMg=="}}}]}}}}
        """;

    [Fact]
    public void A_secret_environment_variable_parses_with_its_data_base64_decoded()
    {
        var task = MesosJson.Deserialize<TaskInfo>(TaskJson)!;

        var variables = task.Command!.Environment!.Variables!;
        variables[1].Type.Should().Be(EnvironmentVariableType.SECRET);
        Encoding.UTF8.GetString(variables[1].Secret!.Value!.Data!).Should().Be("hunter2");
        variables[2].Secret!.Type.Should().Be(SecretType.REFERENCE);
        variables[2].Secret!.Reference!.Name.Should().Be("team/db");
        variables[2].Secret!.Reference!.Key.Should().Be("token");
        Encoding.UTF8.GetString(task.Container!.Volumes![0].Source!.Secret!.Value!.Data!).Should().Be("hunter2");
    }

    [Fact]
    public void A_secret_encodes_to_protobuf_that_mesos_generated_classes_read_with_mesos_field_numbers()
    {
        var call = new Call
        {
            Type = CallType.ACCEPT,
            Accept = new CallAccept
            {
                Operations = [new OfferOperation { Type = OfferOperationType.LAUNCH, Launch = new OfferOperationLaunch { TaskInfos = [MesosJson.Deserialize<TaskInfo>(TaskJson)!] } }],
            },
        };

        var proto = Mesos.V1.Scheduler.Call.Parser.ParseFrom(MesosProtobuf.Serialize(call));

        var variable = proto.Accept.Operations[0].Launch.TaskInfos[0].Command.Environment.Variables[1];
        variable.Type.Should().Be(Mesos.V1.Environment.Types.Variable.Types.Type.Secret);
        variable.Secret.Type.Should().Be(Mesos.V1.Secret.Types.Type.Value);
        variable.Secret.Value.Data.ToStringUtf8().Should().Be("hunter2");
        var reference = proto.Accept.Operations[0].Launch.TaskInfos[0].Command.Environment.Variables[2].Secret.Reference;
        (reference.Name, reference.Key).Should().Be(("team/db", "token"));

        var back = MesosProtobuf.Deserialize<Call>(proto.ToByteArray());
        MesosJson.Serialize(back).Should().Be(MesosJson.Serialize(call));
    }

    [Fact]
    public void Redaction_empties_every_value_secret_and_keeps_types_references_and_plain_values()
    {
        var task = MesosJson.Deserialize<TaskInfo>(TaskJson)!;

        var redacted = SecretRedaction.Redact(task);

        var json = MesosJson.Serialize(redacted);
        json.Should().NotContain("aHVudGVyMg==");
        json.Should().Contain("\"visible\"").And.Contain("team/db").And.Contain("\"token\"");
        var variables = redacted.Command!.Environment!.Variables!;
        variables[1].Secret!.Type.Should().Be(SecretType.VALUE);
        variables[1].Secret!.Value!.Data.Should().BeEmpty("the required data field stays, empty, so protobuf readers accept the view");
        redacted.Container!.Volumes![0].Source!.Secret!.Value!.Data.Should().BeEmpty();
        redacted.HealthCheck!.Command!.Environment!.Variables![0].Secret!.Value!.Data.Should().BeEmpty();
        Encoding.UTF8.GetString(task.Command!.Environment!.Variables![1].Secret!.Value!.Data!).Should().Be("hunter2", "the original, which the agent needs, is untouched");
        SecretRedaction.Redact(redacted).Should().BeSameAs(redacted, "nothing left to hide: no copy");
    }

    [Fact]
    public void Redaction_of_executors_containers_and_health_checks_hides_value_secrets_only()
    {
        var task = MesosJson.Deserialize<TaskInfo>(TaskJson)!;
        var executor = new ExecutorInfo { ExecutorId = new ExecutorID { Value = "e" }, Command = task.Command, Container = task.Container };

        MesosJson.Serialize(SecretRedaction.Redact(executor)).Should().NotContain("aHVudGVyMg==").And.Contain("team/db");
        MesosJson.Serialize(SecretRedaction.Redact(task.Container)).Should().NotContain("aHVudGVyMg==");
        MesosJson.Serialize(SecretRedaction.Redact(task.HealthCheck)).Should().NotContain("aHVudGVyMg==");
        SecretRedaction.Redact((ContainerInfo?)null).Should().BeNull();
        var plain = new ExecutorInfo { Command = new CommandInfo { Value = "x" } };
        SecretRedaction.Redact(plain).Should().BeSameAs(plain);
    }

    public static TheoryData<string, string> InvalidEnvironments => new()
    {
        { """{"name":"A","type":"SECRET"}""", "Environment variable 'A' of type 'SECRET' must have a secret set" },
        { """{"name":"A","type":"SECRET","value":"x","secret":{"type":"VALUE","value":{"data":"eA=="}}}""", "Environment variable 'A' of type 'SECRET' must not have a value set" },
        { """{"name":"A","type":"SECRET","secret":{"type":"REFERENCE"}}""", "Environment variable 'A' specifies an invalid secret: Secret of type REFERENCE must have the 'reference' field set" },
        { """{"name":"A","type":"SECRET","secret":{"type":"REFERENCE","reference":{"name":"n"},"value":{"data":"eA=="}}}""", "Environment variable 'A' specifies an invalid secret: Secret 'n' of type REFERENCE must not have the 'value' field set" },
        { """{"name":"A","type":"SECRET","secret":{"type":"VALUE"}}""", "Environment variable 'A' specifies an invalid secret: Secret of type VALUE must have the 'value' field set" },
        { """{"name":"A","type":"SECRET","secret":{"type":"VALUE","value":{"data":"eA=="},"reference":{"name":"n"}}}""", "Environment variable 'A' specifies an invalid secret: Secret of type VALUE must not have the 'reference' field set" },
        { """{"name":"A","type":"SECRET","secret":{"type":"VALUE","value":{"data":"eABi"}}}""", "Environment variable 'A' specifies a secret containing null bytes, which is not allowed in the environment" },
        { """{"name":"A","type":"VALUE"}""", "Environment variable 'A' of type 'VALUE' must have a value set" },
        { """{"name":"A","value":"x","secret":{"type":"VALUE","value":{"data":"eA=="}}}""", "Environment variable 'A' of type 'VALUE' must not have a secret set" },
        { """{"name":"A","type":"UNKNOWN","value":"x"}""", "Environment variable of type 'UNKNOWN' is not allowed" },
    };

    [Theory]
    [MemberData(nameof(InvalidEnvironments))]
    public void An_invalid_environment_is_refused_in_mesos_words(string variable, string expected)
    {
        var environment = MesosJson.Deserialize<EnvironmentInfo>($$"""{"variables":[{{variable}}]}""");

        EnvironmentValidation.Validate(environment).Should().Be(expected);
    }

    [Fact]
    public void Valid_environments_pass()
    {
        var task = MesosJson.Deserialize<TaskInfo>(TaskJson)!;

        EnvironmentValidation.Validate(task.Command).Should().BeNull();
        EnvironmentValidation.Validate(new CommandInfo { Environment = new EnvironmentInfo { Variables = [new EnvironmentVariable { Name = "A", Value = "" }] } }).Should().BeNull();
        EnvironmentValidation.Validate((CommandInfo?)null).Should().BeNull();
    }
}
