using System.Net;
using Microsoft.AspNetCore.Connections;
using TeleRehab.Media.Hosting;
using TeleRehab.Signaling.Security;

namespace TeleRehab.Signaling.Limits;

/// <summary>Kestrel connection middleware: every accepted HTTP connection takes a slot of the process's connection
/// budget (its file-descriptor limit), of the HTTP total and of its remote address's share, or is closed at once,
/// before a byte of it is read. Refusals are counted and logged at most once per interval.</summary>
public sealed class HttpConnectionLimiter
{
    private readonly ConnectionBudget _process;
    private readonly ConnectionBudget _total;
    private readonly PerAddressLimiter _perAddress;
    private readonly TrustedProxies _proxies;
    private readonly RefusalLog _log;
    private long _refusedFileDescriptors, _refusedTotal;

    public HttpConnectionLimiter(LimitsOptions options, ConnectionBudget process, TrustedProxies proxies, RefusalLog log)
    {
        _process = process;
        _total = new ConnectionBudget(options.HttpConnections);
        _perAddress = new PerAddressLimiter(options.HttpConnectionsPerAddress);
        _proxies = proxies;
        _log = log;
    }

    /// <summary>HTTP connections open now.</summary>
    public int Open => _total.InUse;

    public long RefusedFileDescriptors => Interlocked.Read(ref _refusedFileDescriptors);

    public long RefusedTotal => Interlocked.Read(ref _refusedTotal);

    public long RefusedPerAddress => _perAddress.Refused;

    public ConnectionDelegate Use(ConnectionDelegate next) => async connection =>
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        // A trusted proxy carries many clients on its connections: they are limited per client by the hub instead.
        var perAddress = address is not null && !_proxies.IsTrusted(address);
        if (!_process.TryAcquire())
        {
            Interlocked.Increment(ref _refusedFileDescriptors);
            _log.Refused("http-fd", $"HTTP connection refused: the process is near its open-file limit ({_process.Capacity} connections in use)");
            connection.Abort();
            return;
        }
        try
        {
            if (!_total.TryAcquire())
            {
                Interlocked.Increment(ref _refusedTotal);
                _log.Refused("http-total", $"HTTP connection refused: {_total.Capacity} are open ({LimitsOptions.Section}:HttpConnections)");
                connection.Abort();
                return;
            }
            try
            {
                if (perAddress && !_perAddress.TryAcquire(address!))
                {
                    _log.Refused("http-address", $"HTTP connection from {address} refused: it holds {_perAddress.Limit} ({LimitsOptions.Section}:HttpConnectionsPerAddress)");
                    connection.Abort();
                    return;
                }
                try
                {
                    await next(connection);
                }
                finally
                {
                    if (perAddress) _perAddress.Release(address!);
                }
            }
            finally
            {
                _total.Release();
            }
        }
        finally
        {
            _process.Release();
        }
    };
}
