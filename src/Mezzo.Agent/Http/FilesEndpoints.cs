using System.Globalization;
using System.Text.Json.Nodes;
using Mezzo.Agent.Sandbox;
using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mezzo.Agent.Http;

/// <summary>Mesos's /files API over task sandboxes (and nothing else: no path escapes the sandbox root).</summary>
public static class FilesEndpoints
{
    /// <param name="service">The started agent (the recovery gate answers before it exists), for sandbox owners.</param>
    /// <param name="acls">access_sandboxes decides whose sandboxes a principal may read.</param>
    public static void Map(IEndpointRouteBuilder app, string sandboxRoot, Func<AgentService?> service, Acls acls)
    {
        // Each route's handler runs only once access_sandboxes allows the principal the sandbox its 'path' names.
        async Task Authorized(HttpContext context, Func<HttpRequest, IResult> handler)
        {
            var result = service() is { } started
                && await SandboxAccess.RefusalAsync(sandboxRoot, context.Request.Query["path"].ToString(), started, acls, HttpSecurity.Principal(context)) is { } refusal
                ? Text(StatusCodes.Status403Forbidden, refusal)
                : handler(context.Request);
            await result.ExecuteAsync(context);
        }

        app.MapGet("/files/read", (HttpContext context) => Authorized(context, request => Guard(() =>
        {
            var path = request.Query["path"].ToString();
            if (string.IsNullOrEmpty(path))
            {
                return Text(400, "Expecting 'path' to be present");
            }

            if (!TryParseLong(request.Query["offset"], -1, out var offset) || !TryParseLong(request.Query["length"], -1, out var length))
            {
                return Text(400, "Failed to parse 'offset' or 'length': expecting integers");
            }

            var result = SandboxFiles.Read(sandboxRoot, path, offset, length < 0 ? null : length);
            return Results.Text(new JsonObject { ["data"] = result.Data, ["offset"] = result.Offset }.ToJsonString(), "application/json");
        }))).Access(AccessKind.ReadOnly, AclAction.AccessSandboxes);
        app.MapGet("/files/browse", (HttpContext context) => Authorized(context, request => Guard(() =>
        {
            var path = request.Query["path"].ToString();
            if (string.IsNullOrEmpty(path))
            {
                return Text(400, "Expecting 'path' to be present");
            }

            var entries = new JsonArray();
            foreach (var entry in SandboxFiles.Browse(sandboxRoot, path))
            {
                entries.Add(new JsonObject
                {
                    ["path"] = entry.Path,
                    ["nlink"] = entry.Nlink,
                    ["size"] = entry.Size,
                    ["mtime"] = entry.Mtime,
                    ["mode"] = entry.Mode,
                    ["uid"] = entry.Uid,
                    ["gid"] = entry.Gid,
                });
            }

            return Results.Text(entries.ToJsonString(), "application/json");
        }))).Access(AccessKind.ReadOnly, AclAction.AccessSandboxes);
        app.MapGet("/files/download", (HttpContext context) => Authorized(context, request => Guard(() =>
        {
            var path = request.Query["path"].ToString();
            var file = SandboxPaths.ResolveFile(sandboxRoot, path);
            return file is null
                ? Text(404, $"File '{path}' not found in a sandbox")
                : Results.File(file.FullName, "application/octet-stream", file.Name);
        }))).Access(AccessKind.ReadOnly, AclAction.AccessSandboxes);
    }

    private static IResult Guard(Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (SandboxFileException ex)
        {
            return Text(ex.Kind == SandboxFileErrorKind.NotFound ? 404 : 400, ex.Message);
        }
    }

    private static bool TryParseLong(Microsoft.Extensions.Primitives.StringValues value, long fallback, out long result)
    {
        if (string.IsNullOrEmpty(value))
        {
            result = fallback;
            return true;
        }

        return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out result);
    }

    private static IResult Text(int status, string message) => Results.Text(message, "text/plain; charset=utf-8", statusCode: status);
}
