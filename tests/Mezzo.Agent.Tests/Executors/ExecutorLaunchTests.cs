using AwesomeAssertions;
using Mezzo.Agent.Executors;
using Mezzo.Agent.Http;
using Mezzo.Agent.Launcher;
using Mezzo.Core.Tasks;
using Mezzo.Protocol.V1;

namespace Mezzo.Agent.Tests.Executors;

public sealed class ExecutorLaunchTests
{
    [Theory]
    [InlineData(5_000, "5secs")]
    [InlineData(60_000, "1mins")]
    [InlineData(90_000, "1.5mins")]
    [InlineData(250, "250ms")]
    [InlineData(15 * 60_000, "15mins")]
    [InlineData(2 * 3_600_000, "2hrs")]
    public void Durations_are_written_as_Mesos_writes_them(long milliseconds, string expected)
    {
        ExecutorLaunch.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)).Should().Be(expected);
    }

    [Fact]
    public void FAILURE_status_is_the_raw_wait_status()
    {
        ExecutorLaunch.WaitStatus(ExitStatus.Exited(7)).Should().Be(7 << 8);
        ExecutorLaunch.WaitStatus(ExitStatus.Exited(0)).Should().Be(0);
        ExecutorLaunch.WaitStatus(ExitStatus.Killed(9)).Should().Be(9);
    }

    [Fact]
    public void Executor_grace_period_overrides_the_agent_flag_unless_unset_or_negative()
    {
        var options = new AgentOptions { ExecutorShutdownGracePeriod = TimeSpan.FromSeconds(5) };

        ExecutorLaunch.ShutdownGracePeriod(new ExecutorInfo { ShutdownGracePeriod = new DurationInfo { Nanoseconds = 2_000_000_000 } }, options)
            .Should().Be(TimeSpan.FromSeconds(2));
        ExecutorLaunch.ShutdownGracePeriod(new ExecutorInfo(), options).Should().Be(TimeSpan.FromSeconds(5));
        ExecutorLaunch.ShutdownGracePeriod(new ExecutorInfo { ShutdownGracePeriod = new DurationInfo { Nanoseconds = -1 } }, options)
            .Should().Be(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void An_executor_gets_its_command_environment_secrets_resolved()
    {
        var executor = new AgentExecutor
        {
            FrameworkId = "f",
            ContainerId = "c",
            Sandbox = "/sandbox",
            Framework = new FrameworkInfo(),
            Info = new ExecutorInfo
            {
                ExecutorId = new ExecutorID { Value = "e" },
                Command = new CommandInfo
                {
                    Value = "run",
                    Environment = new EnvironmentInfo
                    {
                        Variables =
                        [
                            new EnvironmentVariable { Name = "PLAIN", Value = "p" },
                            new EnvironmentVariable
                            {
                                Name = "TOKEN",
                                Type = EnvironmentVariableType.SECRET,
                                Secret = new Secret { Type = SecretType.VALUE, Value = new SecretValue { Data = "tok"u8.ToArray() } },
                            },
                        ],
                    },
                },
            },
        };

        var env = ExecutorLaunch.Environment(executor, "agent", new AgentOptions(), TimeSpan.FromSeconds(1), new Agent.Secrets.SecretStore(null));

        env["PLAIN"].Should().Be("p");
        env["TOKEN"].Should().Be("tok");
        var unresolvable = () => ExecutorLaunch.Environment(
            new AgentExecutor { FrameworkId = "f", ContainerId = "c", Sandbox = "/s", Framework = new FrameworkInfo(), Info = new ExecutorInfo
            {
                ExecutorId = new ExecutorID { Value = "e" },
                Command = new CommandInfo { Value = "run", Environment = new EnvironmentInfo { Variables = [new EnvironmentVariable
                {
                    Name = "TOKEN", Type = EnvironmentVariableType.SECRET,
                    Secret = new Secret { Type = SecretType.REFERENCE, Reference = new SecretReference { Name = "team/token" } },
                }] } },
            } },
            "agent", new AgentOptions(), TimeSpan.FromSeconds(1), new Agent.Secrets.SecretStore(null));
        unresolvable.Should().Throw<Agent.Secrets.SecretResolutionException>().WithMessage("*secret reference 'team/token'*--secrets-dir*");
    }

    private static ExecutorCall Update(Action<TaskStatus> change)
    {
        var status = new TaskStatus { TaskId = new TaskID { Value = "t" }, State = TaskState.TASK_RUNNING, Uuid = Guid.NewGuid().ToByteArray() };
        change(status);
        return new ExecutorCall
        {
            Type = ExecutorCallType.UPDATE,
            ExecutorId = new ExecutorID { Value = "e" },
            FrameworkId = new FrameworkID { Value = "f" },
            Update = new ExecutorCallUpdate { Status = status },
        };
    }

    [Fact]
    public void A_well_formed_UPDATE_passes()
    {
        ExecutorEndpoints.Validate(Update(_ => { })).Should().BeNull();
    }

    [Fact]
    public void Every_malformed_call_is_refused_with_a_message_naming_the_field()
    {
        ExecutorEndpoints.Validate(null).Should().Contain("JSON object");
        ExecutorEndpoints.Validate(new ExecutorCall()).Should().Contain("'type'");
        ExecutorEndpoints.Validate(new ExecutorCall { Type = ExecutorCallType.SUBSCRIBE, FrameworkId = new FrameworkID { Value = "f" } }).Should().Contain("'executor_id'");
        ExecutorEndpoints.Validate(new ExecutorCall { Type = ExecutorCallType.SUBSCRIBE, ExecutorId = new ExecutorID { Value = "e" } }).Should().Contain("'framework_id'");
        ExecutorEndpoints.Validate(Update(s => s.TaskId = null)).Should().Contain("'update.status.task_id'");
        ExecutorEndpoints.Validate(Update(s => s.State = null)).Should().Contain("'update.status.state'");
        ExecutorEndpoints.Validate(Update(s => s.Uuid = null)).Should().Contain("'update.status.uuid' to be present");
        ExecutorEndpoints.Validate(Update(s => s.Uuid = [1, 2])).Should().Contain("16 byte UUID");
        ExecutorEndpoints.Validate(Update(s => s.State = TaskState.TASK_STAGING)).Should().Contain("TASK_STAGING");
        ExecutorEndpoints.Validate(Update(s => s.Source = TaskStatusSource.SOURCE_AGENT)).Should().Contain("SOURCE_EXECUTOR");
        ExecutorEndpoints.Validate(Update(s => s.ExecutorId = new ExecutorID { Value = "other" })).Should().Contain("'other' does not match");
        ExecutorEndpoints.Validate(new ExecutorCall
        {
            Type = ExecutorCallType.MESSAGE,
            ExecutorId = new ExecutorID { Value = "e" },
            FrameworkId = new FrameworkID { Value = "f" },
        }).Should().Contain("'message.data'");
    }
}
