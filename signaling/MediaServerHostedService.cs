using TeleRehab.Media.Hosting;

namespace TeleRehab.Signaling;

/// <summary>Binds the media sockets when the web host starts and closes every peer when it stops.</summary>
public sealed partial class MediaServerHostedService(MediaServer media, ILogger<MediaServerHostedService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        media.Start();
        LogStarted(media.UdpPort, media.TcpPort?.ToString() ?? "off", string.Join(", ", media.AnnouncedAddresses()));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await media.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Media server listening on UDP {UdpPort}, ICE-TCP {TcpPort}; announcing {Addresses}")]
    private partial void LogStarted(int udpPort, string tcpPort, string addresses);
}
