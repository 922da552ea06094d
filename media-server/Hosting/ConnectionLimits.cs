using System.Collections.Concurrent;
using System.Net;
using System.Runtime.InteropServices;

namespace TeleRehab.Media.Hosting;

/// <summary>The process's budget of connections (HTTP and ICE-TCP together), derived from its file-descriptor limit:
/// near the limit the server refuses new connections instead of failing to open the sockets and files it needs to
/// keep running. One instance per process, shared by Kestrel's connection middleware and the ICE-TCP listener.</summary>
public sealed class ConnectionBudget
{
    /// <summary>File descriptors kept free for everything that is not a client connection (sockets, files, pipes).</summary>
    public const int DefaultReserve = 1024;

    private int _inUse;
    private long _refused;

    public ConnectionBudget(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>A budget of the process's open-file limit (raised to its hard limit first) less <paramref name="reserve"/>.</summary>
    public static ConnectionBudget ForProcess(int reserve = DefaultReserve) =>
        new(Math.Max(16, FileDescriptorLimit.RaiseToHard() - reserve));

    public int Capacity { get; }

    public int InUse => Volatile.Read(ref _inUse);

    /// <summary>Connections refused because the budget was spent.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Takes one slot; false (and counted) when none is left. Every true must be paired with one <see cref="Release"/>.</summary>
    public bool TryAcquire()
    {
        if (Interlocked.Increment(ref _inUse) <= Capacity) return true;
        Interlocked.Decrement(ref _inUse);
        Interlocked.Increment(ref _refused);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _inUse);
}

/// <summary>Counts what each remote address holds (connections, hub connections) against a per-address cap.</summary>
public sealed class PerAddressLimiter(int limit)
{
    private readonly ConcurrentDictionary<IPAddress, int> _counts = new();
    private long _refused;

    public int Limit { get; } = limit;

    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Addresses holding at least one slot.</summary>
    public int AddressCount => _counts.Count;

    public int CountOf(IPAddress address) => _counts.TryGetValue(Normalize(address), out var count) ? count : 0;

    /// <summary>Takes one slot for <paramref name="address"/>; false (and counted) when it already holds <see cref="Limit"/>.</summary>
    public bool TryAcquire(IPAddress address)
    {
        address = Normalize(address);
        while (true)
        {
            if (_counts.TryGetValue(address, out var count))
            {
                if (count >= Limit)
                {
                    Interlocked.Increment(ref _refused);
                    return false;
                }
                if (_counts.TryUpdate(address, count + 1, count)) return true;
            }
            else if (_counts.TryAdd(address, 1)) return true;
        }
    }

    public void Release(IPAddress address)
    {
        address = Normalize(address);
        while (_counts.TryGetValue(address, out var count))
        {
            if (count <= 1 ? _counts.TryRemove(new KeyValuePair<IPAddress, int>(address, count)) : _counts.TryUpdate(address, count - 1, count)) return;
        }
    }

    // An IPv4 client reaching a dual-stack socket appears as ::ffff:a.b.c.d; count it as a.b.c.d.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>The process's open-file limit (RLIMIT_NOFILE).</summary>
public static partial class FileDescriptorLimit
{
    private const int RlimitNofile = 7; // Linux (x86-64, arm64)

    /// <summary>Raises the soft limit to the hard limit where the platform allows it, and returns the soft limit now in
    /// force. On platforms without such a limit, a large number.</summary>
    public static int RaiseToHard()
    {
        if (!OperatingSystem.IsLinux()) return 1 << 20;
        try
        {
            if (getrlimit(RlimitNofile, out var limit) != 0) return 1024;
            if (limit.Current < limit.Maximum)
            {
                var raised = limit with { Current = limit.Maximum };
                if (setrlimit(RlimitNofile, in raised) == 0) limit = raised;
            }
            return (int)Math.Min(limit.Current, int.MaxValue);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 1024;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct ResourceLimit(ulong Current, ulong Maximum);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out ResourceLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in ResourceLimit limit);
}
