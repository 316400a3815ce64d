using System.Globalization;
using System.Runtime.InteropServices;
using Mezzo.Supervisor;

// mezzo-supervisor --run-dir DIR [--cgroup PROCS_FILE]... [--mount-proc] [--host-proc-fd N]
//                  [--log-max-size BYTES --log-max-files N --stdout PATH --stderr PATH]
//                  [--agent-file FILE --recovery-timeout SECONDS] -- PATH ARGV0 [ARG]...
//
// Started by the agent in the task's sandbox with the task's environment and stdio; becomes the task's parent (and,
// with --mount-proc, the init of its pid namespace). See Supervisor.cs.
return Supervisor.Run(args);
