using Mezzo.Core.Security;
using Mezzo.Hosting.Security;
using Mezzo.Protocol.Chronos;
using Microsoft.AspNetCore.Http;

namespace Mezzo.Jobs.Http;

/// <summary>
/// Per-principal access to jobs (Mezzo's <c>view_jobs</c> / <c>update_jobs</c> ACLs, objects are job names), checked
/// by the handlers once the endpoint has let the principal in. Chronos has no authorizer of its own, so a refusal is
/// answered as Mesos answers one: 403 with a plain-text reason, and nothing is changed.
/// </summary>
internal static class JobAccess
{
    public static bool CanView(HttpContext context, JobsOptions options, string job) =>
        options.Security.Acls.IsAllowed(AclAction.ViewJobs, HttpSecurity.Principal(context), job);

    public static bool CanUpdate(HttpContext context, JobsOptions options, string job) =>
        options.Security.Acls.IsAllowed(AclAction.UpdateJobs, HttpSecurity.Principal(context), job);

    public static IResult Forbidden(HttpContext context, string what)
    {
        var who = HttpSecurity.Principal(context) is { } principal ? $"principal '{principal}'" : "an unauthenticated caller";
        return Results.Text($"Forbidden: {who} may not {what}", "text/plain", statusCode: StatusCodes.Status403Forbidden);
    }

    /// <summary>
    /// The jobs the caller may see, each with only the parents it may see, so that a graph or listing does not name
    /// a job outside the caller's view through a dependency edge.
    /// </summary>
    public static IReadOnlyDictionary<string, Job> Visible(HttpContext context, JobsOptions options, IReadOnlyDictionary<string, Job> jobs)
    {
        var acls = options.Security.Acls;
        if (acls.Permissive && acls.Rules(AclAction.ViewJobs).Count == 0)
        {
            return jobs;
        }

        return jobs.Values
            .Where(job => CanView(context, options, job.Name))
            .Select(job => job.Parents.All(parent => CanView(context, options, parent)) ? job : job with { Parents = [.. job.Parents.Where(parent => CanView(context, options, parent))] })
            .ToDictionary(job => job.Name, StringComparer.Ordinal);
    }
}
