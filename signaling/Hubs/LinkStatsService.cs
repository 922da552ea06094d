namespace TeleRehab.Signaling.Hubs;

/// <summary>The one timer behind the hub's <c>LinkStats</c> events: every <see cref="Interval"/> it has the
/// <see cref="RoomCoordinator"/> send each participant its downlink as the SFU sees it, for all rooms at once (no timer
/// per room or participant).</summary>
public sealed partial class LinkStatsService(RoomCoordinator coordinator, TimeProvider time, ILogger<LinkStatsService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await coordinator.PublishLinkStatsAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending link statistics failed")]
    private partial void LogFailed(Exception ex);
}
