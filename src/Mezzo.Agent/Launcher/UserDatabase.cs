using System.Runtime.InteropServices;

namespace Mezzo.Agent.Launcher;

internal readonly record struct UserIdentity(string Name, uint Uid, uint Gid);

internal static unsafe class UserDatabase
{
    // struct passwd { char* pw_name; char* pw_passwd; uid_t pw_uid; gid_t pw_gid; char* pw_gecos; char* pw_dir; char* pw_shell; }
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
        public nint Gecos;
        public nint Directory;
        public nint Shell;
    }

    private const int InitialBufferSize = 1024;
    private const int MaxBufferSize = 1 << 20;

    /// <summary>getpwnam_r rather than parsing /etc/passwd so NSS sources (LDAP, sssd) work as for any tool.</summary>
    /// <returns>null when the user does not exist.</returns>
    internal static UserIdentity? Lookup(string name)
    {
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        for (var size = InitialBufferSize; size <= MaxBufferSize; size *= 4)
        {
            var buffer = new byte[size];
            Passwd entry;
            void* result;
            int rc;
            fixed (byte* bufferPointer = buffer)
            {
                rc = LibC.getpwnam_r(name, &entry, bufferPointer, (nuint)size, &result);
            }

            if (rc == LibC.ERANGE)
            {
                continue;
            }

            if (rc != 0)
            {
                throw new LaunchException(
                    $"Failed to get user information for '{name}': {LibC.ErrorText(rc)}") { Errno = rc };
            }

            return result == null ? null : new UserIdentity(name, entry.Uid, entry.Gid);
        }

        throw new LaunchException($"Failed to get user information for '{name}': entry too large");
    }
}
