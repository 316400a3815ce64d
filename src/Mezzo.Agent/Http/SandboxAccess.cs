using Mezzo.Agent.Sandbox;
using Mezzo.Core.Security;

namespace Mezzo.Agent.Http;

/// <summary>
/// Mesos's access_sandboxes for /files and the operator API's LIST_FILES/READ_FILE: a path inside an executor's
/// sandbox (<c>&lt;agent&gt;/frameworks/&lt;framework&gt;/executors/&lt;executor&gt;/...</c>) is readable by a principal the
/// ACLs allow for that executor's user (its command's user, else its framework's); anything above the sandboxes
/// lists many teams' executors, so it needs access to every user's.
/// </summary>
public static class SandboxAccess
{
    /// <summary>Null when <paramref name="principal"/> may read <paramref name="path"/>, else why not (a 403 body).</summary>
    public static async Task<string?> RefusalAsync(string sandboxRoot, string path, AgentService service, Acls acls, string? principal)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(acls);
        if (ReferenceEquals(acls, Acls.AllowAll) || string.IsNullOrEmpty(path))
        {
            return null;
        }

        SandboxPaths.ResolvedPath resolved;
        try
        {
            resolved = SandboxPaths.ResolveOrThrow(sandboxRoot, path);
        }
        catch (SandboxFileException)
        {
            // A path that is not there or outside the sandboxes: the handler answers it (404/400) and serves nothing.
            return null;
        }

        var parts = Path.GetRelativePath(resolved.RealRoot, resolved.RealPath).Split('/');
        string? frameworkId = null;
        string? executorId = null;
        string? user = null;
        if (parts.Length >= 5 && parts[1] == "frameworks" && parts[3] == "executors")
        {
            (frameworkId, executorId) = (parts[2], parts[4]);
            user = (await service.GetOwnersAsync().ConfigureAwait(false)).Executor(frameworkId, executorId);
        }

        if (acls.IsAllowed(AclAction.AccessSandboxes, principal, user))
        {
            return null;
        }

        var who = principal is null ? "an unauthenticated caller" : $"principal '{principal}'";
        return executorId is null
            ? $"Forbidden: {who} may not access '{path}': it holds the sandboxes of every user (access_sandboxes)"
            : $"Forbidden: {who} may not access the sandbox of executor '{executorId}' of framework '{frameworkId}' "
                + $"(access_sandboxes for user '{user ?? "(unknown)"}')";
    }
}
