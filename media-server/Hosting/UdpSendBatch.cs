using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// The datagrams a media worker sends while it handles what it was woken for, given to the kernel in one sendmmsg(2)
/// when it is done (or when the batch is full): a subscriber's packets for a hundred listeners cost one system call,
/// not a hundred. On a virtual machine a system call is a trip through the hypervisor, and it was the largest cost per
/// forwarded packet. Each message keeps its own destination and source address (IP_PKTINFO / IPV6_PKTINFO, as
/// <see cref="LinuxUdp.SendFrom"/>). One per worker thread (<see cref="Current"/>), used only by that thread: no locks;
/// its memory is allocated once, so adding a datagram allocates nothing. 64-bit Linux only.
/// </summary>
public sealed unsafe class UdpSendBatch : IDisposable
{
    /// <summary>Messages per system call (the kernel's UIO_MAXIOV limit is 1024).</summary>
    public const int Capacity = 64;

    /// <summary>The largest datagram a slot holds; a larger one is sent on its own.</summary>
    public const int SlotSize = 2048;

    private const int NameSize = 32;    // sockaddr_in6 is 28 bytes
    private const int ControlSize = LinuxUdp.PacketInfoSpace;

    [ThreadStatic] private static UdpSendBatch? t_current;

    private readonly LinuxUdp.MultiMessageHeader* _messages;
    private readonly LinuxUdp.IoVec* _iovecs;
    private readonly byte* _payloads;
    private readonly byte* _names;
    private readonly byte* _controls;
    private SafeHandle? _socket;
    private int _count;
    private bool _disposed;

    public UdpSendBatch()
    {
        if (!LinuxUdp.IsSupported) throw new PlatformNotSupportedException("sendmmsg batches need 64-bit Linux");
        _messages = (LinuxUdp.MultiMessageHeader*)NativeMemory.AlignedAlloc((nuint)(Capacity * sizeof(LinuxUdp.MultiMessageHeader)), 8);
        _iovecs = (LinuxUdp.IoVec*)NativeMemory.AlignedAlloc((nuint)(Capacity * sizeof(LinuxUdp.IoVec)), 8);
        _payloads = (byte*)NativeMemory.AlignedAlloc(Capacity * SlotSize, 64);
        _names = (byte*)NativeMemory.AlignedAlloc(Capacity * NameSize, 8);
        _controls = (byte*)NativeMemory.AlignedAlloc(Capacity * ControlSize, 8);
    }

    /// <summary>The batch of the calling worker thread, or null on any other thread (which then sends at once).</summary>
    public static UdpSendBatch? Current
    {
        get => t_current;
        internal set => t_current = value;
    }

    /// <summary>Datagrams waiting for <see cref="Flush"/>.</summary>
    public int Count => _count;

    /// <summary>System calls made (each sends up to <see cref="Capacity"/> datagrams).</summary>
    public long Calls { get; private set; }

    /// <summary>Datagrams the kernel took.</summary>
    public long Sent { get; private set; }

    /// <summary>Datagrams the kernel refused (e.g. an ICMP error reported for an earlier one) or whose socket was closed:
    /// dropped, as a lost packet on the wire; ICE consent decides whether the peer is still there.</summary>
    public long Failed { get; private set; }

    /// <summary>Queues <paramref name="datagram"/> to <paramref name="remote"/> (a native sockaddr) from
    /// <paramref name="source"/>, through <paramref name="socket"/>. Returns false, having sent nothing, when the datagram
    /// does not fit a slot: the caller sends it on its own.</summary>
    public bool Add(SafeHandle socket, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> remote, in UdpLocalAddress source)
    {
        if (datagram.Length > SlotSize || remote.Length > NameSize) return false;
        if (_count == Capacity || (_socket is not null && !ReferenceEquals(_socket, socket))) Flush();
        _socket = socket;

        var i = _count++;
        var payload = _payloads + (nint)i * SlotSize;
        datagram.CopyTo(new Span<byte>(payload, datagram.Length));
        var name = _names + i * NameSize;
        remote.CopyTo(new Span<byte>(name, remote.Length));
        var control = _controls + i * ControlSize;
        var controlLength = LinuxUdp.WritePacketInfo(new Span<byte>(control, ControlSize), source);

        _iovecs[i] = new LinuxUdp.IoVec { Base = payload, Length = (nuint)datagram.Length };
        _messages[i] = new LinuxUdp.MultiMessageHeader
        {
            Header = new LinuxUdp.MessageHeader
            {
                Name = name,
                NameLength = (uint)remote.Length,
                Iov = _iovecs + i,
                IovLength = 1,
                Control = controlLength > 0 ? control : null,
                ControlLength = (nuint)controlLength,
            },
        };
        return true;
    }

    /// <summary>Sends every queued datagram, in order. A datagram the kernel refuses is dropped and the rest still go.</summary>
    public void Flush()
    {
        var count = _count;
        if (count == 0) return;
        _count = 0;
        var socket = _socket!;
        var start = 0;
        try
        {
            while (start < count)
            {
                var sent = LinuxUdp.sendmmsg(socket, _messages + start, (uint)(count - start), 0);
                Calls++;
                if (sent > 0)
                {
                    start += sent;
                    Sent += sent;
                    continue;
                }
                if (Marshal.GetLastPInvokeError() == LinuxUdp.EIntr) continue;
                // sendmmsg(2): the first message failed (later ones' errors come back on a later call); skip it.
                start++;
                Failed++;
            }
        }
        catch (ObjectDisposedException)
        {
            Failed += count - start; // the socket closed: the server is stopping
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (ReferenceEquals(t_current, this)) t_current = null;
        NativeMemory.AlignedFree(_messages);
        NativeMemory.AlignedFree(_iovecs);
        NativeMemory.AlignedFree(_payloads);
        NativeMemory.AlignedFree(_names);
        NativeMemory.AlignedFree(_controls);
    }
}
