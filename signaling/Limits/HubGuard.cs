using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using TeleRehab.Media.Hosting;
using TeleRehab.Signaling.Hubs;

namespace TeleRehab.Signaling.Limits;

/// <summary>The session hub's limits, as a hub filter: hub connections per client address, time to Join, calls per
/// second and refused calls per connection (beyond either the connection is closed), and refused calls logged as
/// one warning line without a stack trace, at most <see cref="LoggedRefusalsPerConnection"/> per connection.</summary>
public sealed partial class HubGuard : IHubFilter
{
    public const int LoggedRefusalsPerConnection = 3;
    private const int MaxLoggedMessage = 200;

    private readonly LimitsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HubGuard> _logger;
    private readonly RefusalLog _refusals;
    private readonly PerAddressLimiter _perAddress;
    private long _refusedCalls, _closedForRate, _closedForRefusals, _closedForJoinTimeout;

    public HubGuard(IOptions<LimitsOptions> options, TimeProvider time, ILogger<HubGuard> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _refusals = new RefusalLog(logger, time, TimeSpan.FromSeconds(10));
        _perAddress = new PerAddressLimiter(_options.HubConnectionsPerAddress);
    }

    public long RefusedCalls => Interlocked.Read(ref _refusedCalls);
    public long ClosedForRate => Interlocked.Read(ref _closedForRate);
    public long ClosedForRefusals => Interlocked.Read(ref _closedForRefusals);
    public long ClosedForJoinTimeout => Interlocked.Read(ref _closedForJoinTimeout);
    public long RefusedPerAddress => _perAddress.Refused;

    private sealed class ConnectionState(IPAddress? address, double tokens, long stamp)
    {
        public readonly Lock Lock = new();
        public IPAddress? Address = address;
        public double Tokens = tokens;
        public long Stamp = stamp;
        public int Refused;
        public bool Joined;
        public bool Closing;
        public ITimer? JoinTimer;
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var hub = context.Context;
        var address = hub.GetHttpContext()?.Connection.RemoteIpAddress;
        var state = new ConnectionState(null, _options.HubCallBurst, _time.GetTimestamp());
        hub.Items[typeof(HubGuard)] = state;
        if (address is not null)
        {
            if (!_perAddress.TryAcquire(address))
            {
                _refusals.Refused("hub-address", $"hub connection from {address} refused: it holds {_perAddress.Limit} ({LimitsOptions.Section}:HubConnectionsPerAddress)");
                state.Closing = true;
                hub.Abort();
                return Task.CompletedTask;
            }
            state.Address = address;
        }
        state.JoinTimer = _time.CreateTimer(static s =>
        {
            var (guard, connection, connectionState) = ((HubGuard, HubCallerContext, ConnectionState))s!;
            guard.OnJoinDeadline(connection, connectionState);
        }, (this, hub, state), TimeSpan.FromSeconds(_options.HubJoinSeconds), Timeout.InfiniteTimeSpan);
        return next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        if (context.Context.Items.TryGetValue(typeof(HubGuard), out var value) && value is ConnectionState state)
        {
            IPAddress? address;
            lock (state.Lock)
            {
                state.JoinTimer?.Dispose();
                state.JoinTimer = null;
                address = state.Address;
                state.Address = null;
            }
            if (address is not null) _perAddress.Release(address);
        }
        await next(context, exception);
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var hub = invocation.Context;
        var state = hub.Items.TryGetValue(typeof(HubGuard), out var value) ? value as ConnectionState : null;
        if (state is not null && !TakeToken(state))
        {
            Close(hub, state, ref _closedForRate, $"more than {_options.HubCallBurst} calls above {_options.HubCallsPerSecond}/s");
            throw new HubException("closed: too many calls; the connection is closed");
        }
        try
        {
            var result = await next(invocation);
            if (state is not null && invocation.HubMethodName is nameof(SessionHub.Join) or nameof(SessionHub.Resume))
            {
                lock (state.Lock)
                {
                    state.Joined = true;
                    state.JoinTimer?.Dispose();
                    state.JoinTimer = null;
                }
            }
            return result;
        }
        catch (HubException ex)
        {
            Interlocked.Increment(ref _refusedCalls);
            if (state is not null) OnRefused(hub, state, invocation.HubMethodName, ex.Message);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A fault of ours, not the client's: worth its stack trace, but no more often than refusals.
            if (state is null || Interlocked.Increment(ref state.Refused) <= LoggedRefusalsPerConnection)
                LogFault(_logger, invocation.HubMethodName, hub.ConnectionId, ex);
            throw;
        }
    }

    private void OnRefused(HubCallerContext hub, ConnectionState state, string method, string message)
    {
        var refused = Interlocked.Increment(ref state.Refused);
        if (refused <= LoggedRefusalsPerConnection)
            LogRefused(_logger, method, hub.ConnectionId, Truncate(message));
        if (refused >= _options.HubRefusedCalls)
            Close(hub, state, ref _closedForRefusals, $"{refused} refused calls");
    }

    private bool TakeToken(ConnectionState state)
    {
        lock (state.Lock)
        {
            var now = _time.GetTimestamp();
            var elapsed = _time.GetElapsedTime(state.Stamp, now).TotalSeconds;
            state.Stamp = now;
            state.Tokens = Math.Min(_options.HubCallBurst, state.Tokens + elapsed * _options.HubCallsPerSecond);
            if (state.Tokens < 1) return false;
            state.Tokens -= 1;
            return true;
        }
    }

    private void OnJoinDeadline(HubCallerContext hub, ConnectionState state)
    {
        lock (state.Lock)
        {
            if (state.Joined || state.JoinTimer is null) return;
        }
        Close(hub, state, ref _closedForJoinTimeout, $"no Join within {_options.HubJoinSeconds} s");
    }

    private void Close(HubCallerContext hub, ConnectionState state, ref long counter, string why)
    {
        lock (state.Lock)
        {
            if (state.Closing) return;
            state.Closing = true;
        }
        Interlocked.Increment(ref counter);
        LogClosed(_logger, hub.ConnectionId, state.Address?.ToString() ?? "?", why);
        hub.Abort();
    }

    private static string Truncate(string text) => text.Length <= MaxLoggedMessage ? text : string.Concat(text.AsSpan(0, MaxLoggedMessage), "...");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub call {Method} refused on connection {ConnectionId}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, string connectionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub connection {ConnectionId} from {Address} closed: {Why}")]
    private static partial void LogClosed(ILogger logger, string connectionId, string address, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Hub call {Method} failed on connection {ConnectionId}")]
    private static partial void LogFault(ILogger logger, string method, string connectionId, Exception exception);
}
