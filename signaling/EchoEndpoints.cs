using System.Text;
using System.Threading.RateLimiting;
using TeleRehab.Media.Echo;

namespace TeleRehab.Signaling;

/// <summary><c>POST /api/echo</c>: the connection check. The body is a browser's SDP offer; the reply is the server's
/// answer, and the server then sends every received audio and video stream back to the same peer for at most
/// <see cref="EchoOptions.MaxDurationSeconds"/>. Capped per server (concurrent peers) and per client address (rate).</summary>
public static class EchoEndpoints
{
    public const string RateLimitPolicy = "echo";
    private const int MaxOfferBytes = 64 * 1024;

    public static void AddEchoRateLimit(this IServiceCollection services, IConfiguration configuration)
    {
        var perMinute = configuration.GetValue("TeleRehab:Echo:RequestsPerMinutePerAddress", 10);
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancel) =>
                await context.HttpContext.Response.WriteAsync($"too many connection checks from this address (limit {perMinute} a minute)", cancel);
            options.AddPolicy(RateLimitPolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });
    }

    public static void MapEcho(this WebApplication app)
    {
        app.MapPost("/api/echo", HandleOfferAsync).RequireRateLimiting(RateLimitPolicy);
    }

    private static async Task<IResult> HandleOfferAsync(HttpContext http, EchoService echo, ILoggerFactory loggers)
    {
        var request = http.Request;
        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), "application/sdp", StringComparison.OrdinalIgnoreCase))
            return Problem(StatusCodes.Status415UnsupportedMediaType, "the body must be an SDP offer with Content-Type: application/sdp");

        var transportText = request.Query["transport"].ToString();
        EchoTransport transport;
        switch (transportText)
        {
            case "" or "all": transport = EchoTransport.All; break;
            case "udp": transport = EchoTransport.Udp; break;
            case "tcp": transport = EchoTransport.Tcp; break;
            default: return Problem(StatusCodes.Status400BadRequest, $"transport must be all, udp or tcp, not '{transportText}'");
        }

        var offer = await ReadBodyAsync(request, http.RequestAborted);
        if (offer is null) return Problem(StatusCodes.Status413PayloadTooLarge, $"the SDP offer is larger than {MaxOfferBytes} bytes");
        if (offer.Length == 0) return Problem(StatusCodes.Status400BadRequest, "the body is empty: send the browser's SDP offer");

        var status = echo.TryStart(offer, transport, out var answer, out var error, out _);
        return status switch
        {
            EchoStartStatus.Started => Results.Text(answer!, "application/sdp", Encoding.UTF8, StatusCodes.Status201Created),
            EchoStartStatus.BadOffer => Problem(StatusCodes.Status400BadRequest, $"bad SDP offer: {error}"),
            EchoStartStatus.Busy => Problem(StatusCodes.Status503ServiceUnavailable, error!),
            _ => Problem(StatusCodes.Status503ServiceUnavailable, error ?? "unavailable"),
        };
    }

    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken cancel)
    {
        if (request.ContentLength > MaxOfferBytes) return null;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxOfferBytes + 1];
        var total = 0;
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(total), cancel)) > 0)
        {
            total += read;
            if (total > MaxOfferBytes) return null;
        }
        return new string(buffer, 0, total);
    }

    private static IResult Problem(int status, string reason) => Results.Text(reason, "text/plain", Encoding.UTF8, status);
}
