using Microsoft.Extensions.Options;
using TeleRehab.Signaling.Api;

namespace TeleRehab.Signaling.Sessions;

public static class SessionServiceCollectionExtensions
{
    /// <summary>Registers the session registry, the join-token service and the operator API's settings. Settings are
    /// checked when the host starts (a malformed signing key or base URL stops start-up with a clear message).</summary>
    public static IServiceCollection AddSessions(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddTimeProvider();
        services.AddOptions<JoinTokenOptions>().Bind(configuration.GetSection(JoinTokenOptions.Section));
        services.AddOptions<SessionOptions>().Bind(configuration.GetSection(SessionOptions.Section));
        services.AddSingleton(sp => new JoinTokenService(sp.GetRequiredService<IOptions<JoinTokenOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<JoinTokenService>>()));
        services.AddSingleton(sp => new SessionRegistry(sp.GetRequiredService<IOptions<SessionOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SessionRegistry>>()));
        services.AddSingleton(_ => OperatorApiSettings.From(configuration));
        services.AddSingleton(_ => new SessionLanguages(Path.Combine(AppContext.BaseDirectory, "client-web", "i18n")));
        services.AddHostedService<SessionsStartupCheck>();
        return services;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }

    /// <summary>Builds the singletons at start-up, so configuration errors and the "ephemeral key" warning show then,
    /// not on the first request.</summary>
    private sealed class SessionsStartupCheck(IServiceProvider services, ILogger<SessionsStartupCheck> logger) : IHostedService
    {
        private const int MinRecommendedKeyLength = 16;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<JoinTokenService>();
            services.GetRequiredService<SessionRegistry>();
            var api = services.GetRequiredService<OperatorApiSettings>();
            if (api.ApiKey is null)
                logger.LogWarning("{Key} is not set: the operator API (/api/sessions) answers 503 until it is.", OperatorApiSettings.ApiKeyKey);
            else if (api.ApiKey.Length < MinRecommendedKeyLength)
                logger.LogWarning("{Key} is shorter than {Length} characters: use a long random key (e.g. `openssl rand -base64 32`).",
                    OperatorApiSettings.ApiKeyKey, MinRecommendedKeyLength);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
