using Microsoft.Playwright;

namespace TeleRehab.Media.Tests.Support;

/// <summary>
/// What the browser tests of weak links start with: the app (an operator key, the media announced on loopback), a
/// client of its session API, and Chromium whose fake camera shows a moving mosaic (<see cref="BusyVideo"/>), so that
/// video needs the bitrates of a real scene.
/// </summary>
public sealed class MosaicBrowserHost : IAsyncDisposable
{
    public const string ApiKey = "test-operator-key";

    private readonly IPlaywright _playwright;
    private readonly DirectoryInfo _clipDirectory;

    private MosaicBrowserHost(AppHost host, SessionApiClient api, IPlaywright playwright, IBrowser browser, DirectoryInfo clipDirectory)
    {
        (Host, Api, _playwright, Browser, _clipDirectory) = (host, api, playwright, browser, clipDirectory);
    }

    public AppHost Host { get; }

    public SessionApiClient Api { get; }

    public IBrowser Browser { get; }

    public static async Task<MosaicBrowserHost> StartAsync()
    {
        var host = await AppHost.StartAsync(("TeleRehab:OperatorApiKey", ApiKey), ("TeleRehab:Media:AnnouncedAddress", "127.0.0.1"));
        var clipDirectory = Directory.CreateTempSubdirectory("telerehab-clip-");
        var (playwright, browser) = await Chromium.LaunchAsync($"--use-file-for-fake-video-capture={BusyVideo.CreateY4m(clipDirectory.FullName)}");
        return new MosaicBrowserHost(host, new SessionApiClient(host, ApiKey), playwright, browser, clipDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        Api.Dispose();
        await Host.DisposeAsync();
        _clipDirectory.Delete(recursive: true);
    }
}
