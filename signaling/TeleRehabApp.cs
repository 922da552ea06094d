using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Echo;
using TeleRehab.Media.Hosting;
using TeleRehab.Media.Rooms;
using TeleRehab.Signaling.Hubs;
using TeleRehab.Signaling.Limits;
using TeleRehab.Signaling.Security;
using TeleRehab.Signaling.Api;
using TeleRehab.Signaling.Metrics;
using TeleRehab.Signaling.PoseModel;
using TeleRehab.Signaling.Sessions;

namespace TeleRehab.Signaling;

/// <summary>Builds the web host: HTTP endpoints, and the media server hosted in-process.</summary>
public static class TeleRehabApp
{
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>The largest hub message the server accepts (docs/signalling.md).</summary>
    public const int HubMaxMessageBytes = 64 * 1024;

    /// <summary>Builds the application. <paramref name="configure"/> lets tests override settings (ports, clocks).</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Limits are checked before anything uses them: a bad value stops start-up with a message naming its key.
        var limits = builder.Configuration.GetSection(LimitsOptions.Section).Get<LimitsOptions>() ?? new LimitsOptions();
        limits.Validate();
        builder.Services.AddOptions<LimitsOptions>().Bind(builder.Configuration.GetSection(LimitsOptions.Section));
        var proxies = TrustedProxies.From(builder.Configuration);
        builder.Services.AddSingleton(proxies);
        // One budget for every connection the process accepts (HTTP and ICE-TCP): near the open-file limit new
        // connections are refused instead of the process failing to open what it needs.
        var processBudget = ConnectionBudget.ForProcess(limits.FileDescriptorReserve);
        builder.Services.AddSingleton(processBudget);
        builder.Services.AddSingleton(sp => new HttpConnectionLimiter(limits, processBudget, proxies,
            new RefusalLog(sp.GetRequiredService<ILogger<HttpConnectionLimiter>>(), sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(10))));
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(limits.HttpIdleSeconds);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(Math.Min(limits.HttpIdleSeconds, 30));
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => kestrel.ApplicationServices.GetRequiredService<HttpConnectionLimiter>().Use(next)));
        });
        // Refused hub calls are logged once, as a warning without a stack trace, by HubGuard.
        builder.Logging.AddFilter("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.Critical);

        builder.Services.AddOptions<MediaServerOptions>().Bind(builder.Configuration.GetSection("TeleRehab:Media"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new MediaServer(sp.GetRequiredService<IOptions<MediaServerOptions>>().Value, sp.GetRequiredService<TimeProvider>())
        {
            ConnectionBudget = processBudget,
        });
        builder.Services.AddHostedService<MediaServerHostedService>();
        builder.Services.AddSingleton(_ => DtlsCertificate.Generate());
        builder.Services.AddOptions<EchoOptions>().Bind(builder.Configuration.GetSection("TeleRehab:Echo"));
        builder.Services.AddSingleton(sp => new EchoService(sp.GetRequiredService<MediaServer>(), sp.GetRequiredService<DtlsCertificate>(),
            sp.GetRequiredService<IOptions<EchoOptions>>().Value));
        builder.Services.AddEchoRateLimit(builder.Configuration);
        builder.Services.AddSessions(builder.Configuration);
        builder.Services.AddMediaMetrics();
        builder.Services.AddSingleton(sp =>
        {
            var limits = sp.GetRequiredService<IOptions<LimitsOptions>>().Value;
            return new RoomManager(sp.GetRequiredService<MediaServer>(), sp.GetRequiredService<DtlsCertificate>(),
                new RetransmissionMemory(limits.RetransmissionMemoryMB * RetransmissionMemory.Megabyte,
                    limits.RetransmissionMemoryPerParticipantMB * RetransmissionMemory.Megabyte),
                limits.MaxMediaSections);
        });
        var roomOptions = builder.Configuration.GetSection(RoomOptions.Section).Get<RoomOptions>() ?? new RoomOptions();
        roomOptions.Validate();
        builder.Services.AddOptions<RoomOptions>().Bind(builder.Configuration.GetSection(RoomOptions.Section));
        builder.Services.AddSingleton<RoomCoordinator>();
        builder.Services.AddHostedService<LinkStatsService>();
        builder.Services.AddSignalR(options =>
        {
            // Hub messages are small (SDP is the largest); anything bigger is refused and closes that connection only.
            options.MaximumReceiveMessageSize = HubMaxMessageBytes;
            options.AddFilter<HubGuard>();
        });
        builder.Services.AddSingleton<HubGuard>();
        builder.Services.AddPoseModel();
        // The pages' own files on a 2G phone: their JavaScript is about a third of its size compressed. Only the static
        // files (the branch below): never the API's or the hub's answers, which carry join tokens (BREACH).
        builder.Services.AddResponseCompression(options =>
        {
            options.EnableForHttps = true;
            options.Providers.Add<Microsoft.AspNetCore.ResponseCompression.BrotliCompressionProvider>();
            options.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>();
            options.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json", "image/svg+xml"];
        });
        configure?.Invoke(builder);

        var app = builder.Build();
        if (proxies.Any) app.UseForwardedHeaders(proxies.ForwardedHeadersOptions());
        app.UseSecurityHeaders();
        var clientRoot = Path.Combine(AppContext.BaseDirectory, "client-web");
        if (Directory.Exists(clientRoot))
        {
            var files = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(clientRoot);
            app.UseWhen(context => IsPageFile(context.Request.Path), branch => branch.UseResponseCompression());
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        app.UseRateLimiter();
        app.MapPoseModel();
        app.MapEcho();
        app.MapSessionApi();
        app.MapDemoApi();
        app.MapMediaMetrics();
        app.MapHub<SessionHub>(SessionHub.Path);
        app.MapGet("/join", () => Results.File(Path.Combine(clientRoot, "join.html"), "text/html; charset=utf-8"));
        app.MapGet("/check", () => Results.File(Path.Combine(clientRoot, "check.html"), "text/html; charset=utf-8"));
        app.MapGet("/healthz", (MediaServer media) => media.IsReady
            ? Results.Text("ok", "text/plain")
            : Results.Text("media sockets not bound", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }

    /// <summary>The pages and their files: everything but the API, the hub, the metrics and the pose model's files
    /// (which are served compressed ahead of time).</summary>
    private static bool IsPageFile(PathString path) =>
        !path.StartsWithSegments("/api") && !path.StartsWithSegments(SessionHub.Path) && !path.StartsWithSegments("/metrics")
        && !path.StartsWithSegments(PoseModelFiles.PathPrefix) && !path.StartsWithSegments("/healthz");
}
