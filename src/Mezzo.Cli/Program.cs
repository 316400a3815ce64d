using System.CommandLine;
using Mezzo.Cli.Commands;

var root = new RootCommand("""
    Mezzo: a datacenter resource manager in the lineage of Apache Mesos.
    Flags are spelled with dashes (--work-dir); Mesos's underscore spellings (--work_dir) and MEZZO_<FLAG> environment variables work too.
    """)
{
    DevCommand.Create(),
    MasterCommand.Create(),
    AgentCommand.Create(),
    ServicesCommand.Create(),
    AppCommand.Create(),
    ExecuteCommand.Create(),
    JobsCommand.Create(),
    JobCommand.Create(),
    FrameworkVerbs.Create(),
    TaskVerbs.Create(),
    RoleVerbs.CreateRole(),
    RoleVerbs.CreateQuota(),
    StateVerb.Create(),
    CompletionCommand.Create(),
};
var parsed = root.Parse(args);
var code = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
// A usage error exits 2 (as getopt-style tools do), so scripts can tell it from a server's refusal (1).
return parsed.Action is System.CommandLine.Invocation.ParseErrorAction ? Mezzo.Cli.Client.ExitCodes.Usage : code;
