using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using TeleRehab.Media.Hosting;
using TeleRehab.Signaling;

namespace TeleRehab.Media.Tests.Support;

/// <summary>The real web host with the in-process media server on real loopback sockets (free ports).</summary>
public sealed class AppHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AppHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public MediaServer Media => _app.Services.GetRequiredService<MediaServer>();

    public IServiceProvider Services => _app.Services;

    public static Task<AppHost> StartAsync(params (string Key, string Value)[] settings) => StartAsync(null, settings);

    /// <summary>Starts the app; <paramref name="configure"/> may add services (e.g. a log capture) before it is built.</summary>
    public static async Task<AppHost> StartAsync(Action<WebApplicationBuilder>? configure, params (string Key, string Value)[] settings)
    {
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            "--TeleRehab:Media:UdpPort=0",
            "--TeleRehab:Media:TcpPort=0",
            "--TeleRehab:Media:ListenAddress=127.0.0.1",
            "--Logging:LogLevel:Default=Warning",
            $"--TeleRehab:Tokens:SigningKey={Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}",
        };
        args.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var app = TeleRehabApp.Create([.. args], configure);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new AppHost(app, new Uri(address));
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
