using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Mezzo.Hosting.Security;

namespace Mezzo.IntegrationTests.Security;

/// <summary>
/// Calls every route of a server's routing table (<see cref="EndpointInventory"/>) once per method, with parameters
/// filled in, and collects the status codes, so a test can prove that each one is protected.
/// </summary>
internal static partial class EndpointSweep
{
    public sealed record Call(string Method, string Path, AccessKind? Kind, HttpStatusCode Status);

    /// <summary>The routes' paths with each parameter replaced by a harmless value.</summary>
    public static string Instantiate(string template) => Parameter().Replace(template, match =>
        match.Value.Contains(":int", StringComparison.Ordinal) ? "1" : "x");

    /// <param name="authorization">The Authorization header to send, or null for none.</param>
    public static async Task<IReadOnlyList<Call>> CallAllAsync(Uri baseUrl, IEnumerable<EndpointEntry> routes, AuthenticationHeaderValue? authorization, CancellationToken cancellation)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var client = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        var calls = new List<Call>();
        foreach (var route in routes)
        {
            var methods = route.Methods.Count == 0 ? ["GET", "POST"] : route.Methods;
            foreach (var method in methods)
            {
                var path = Instantiate(route.Template);
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                request.Headers.Authorization = authorization;
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                // Headers only: a stream that was (wrongly) let through must not hold the sweep open.
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
                calls.Add(new Call(method, path, route.Access?.Kind, response.StatusCode));
            }
        }

        return calls;
    }

    public static AuthenticationHeaderValue Basic(string principal, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{principal}:{secret}")));

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
