using System.Runtime.Versioning;

// The agent's launcher and sandbox code is Linux-only, and so are these tests.
[assembly: SupportedOSPlatform("linux")]
