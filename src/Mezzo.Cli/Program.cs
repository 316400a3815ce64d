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
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
