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
};
var parsed = root.Parse(args);
var code = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
// A usage error (a bad flag value) exits 2, as getopt-style tools do, so scripts can tell it from a failure to run.
return parsed.Errors.Count > 0 ? 2 : code;
