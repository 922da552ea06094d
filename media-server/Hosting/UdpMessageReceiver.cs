using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static TeleRehab.Media.Hosting.LinuxUdp;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// Receives UDP datagrams with recvmsg(2) and reads two things from their control data (64-bit Linux):
/// <list type="bullet">
/// <item>the local address each was sent to (IP_PKTINFO / IPV6_PKTINFO): on a socket bound to the wildcard address a
/// peer may send to any of the host's addresses, and what goes back to it must leave from that one (RFC 8445
/// §7.2.5.2.1; see <see cref="UdpPacketPath"/>);</item>
/// <item>optionally the time the kernel took it off the wire (<c>SO_TIMESTAMPNS</c>, socket(7)), expressed on
/// <see cref="Stopwatch"/>'s clock. Transport-wide feedback reports arrival times, and the sender's delay-based
/// estimator reads their spacing: a timestamp taken in user space carries every scheduling delay of the receiving
/// thread, so on a busy machine a descheduled receive loop stamps a burst of queued datagrams at once and the
/// publisher's browser sees a queue that is not on the link (and backs off). Chrome stamps its own receive path the
/// same way, from the kernel.</item>
/// </list>
/// <para>
/// One receiver serves the single UDP receive loop: not thread-safe, no allocation per datagram.
/// <see cref="TryCreate"/> returns null where the platform has neither (the loop then receives with .NET's socket and
/// replies as the kernel routes them).
/// </para>
/// </summary>
internal sealed unsafe class UdpMessageReceiver : IDisposable
{
    private const int ControlSize = 128; // a timespec message (32) and a pktinfo message (up to 40), with room to spare
    private static readonly long MaxAgeTicks = TimeSpan.TicksPerSecond;

    private readonly SafeHandle _handle;
    private readonly byte* _control;

    private UdpMessageReceiver(Socket socket, bool kernelTimestamps, bool packetInfo)
    {
        _handle = socket.SafeHandle;
        _control = (byte*)NativeMemory.AlignedAlloc(ControlSize, 8);
        KernelTimestamps = kernelTimestamps;
        PacketInfo = packetInfo;
    }

    /// <summary>A receiver on <paramref name="socket"/> that reads each datagram's destination address and, when
    /// <paramref name="kernelTimestamps"/>, its kernel receive time; null where neither is available.</summary>
    public static UdpMessageReceiver? TryCreate(Socket socket, bool kernelTimestamps = true)
    {
        if (!IsSupported) return null;
        var stamped = kernelTimestamps && TryEnableTimestamps(socket);
        var packetInfo = TryEnablePacketInfo(socket);
        return stamped || packetInfo ? new UdpMessageReceiver(socket, stamped, packetInfo) : null;
    }

    /// <summary>True when datagrams carry the kernel's receive time.</summary>
    public bool KernelTimestamps { get; }

    /// <summary>True when datagrams carry their destination address.</summary>
    public bool PacketInfo { get; }

    /// <summary>Datagrams received with a kernel timestamp (the rest, if any, were stamped on arrival in user space).</summary>
    public long KernelStamped { get; private set; }

    /// <summary>
    /// Waits up to <paramref name="wait"/> for one datagram. Returns its length (0 when none came in time), the
    /// sender in <paramref name="from"/>, the local address it was sent to in <paramref name="local"/> (default when
    /// unknown), and in <paramref name="receivedAt"/> the <see cref="Stopwatch"/> timestamp of its arrival. Throws
    /// <see cref="SocketException"/> for errors other than "nothing yet", e.g. ICMP port unreachable reported for an
    /// earlier send, as <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> does, and
    /// <see cref="ObjectDisposedException"/> once the socket is disposed.
    /// </summary>
    public int Receive(Span<byte> buffer, SocketAddress from, TimeSpan wait, out long receivedAt, out UdpLocalAddress local)
    {
        while (true)
        {
            // Each system call holds a reference on the socket's handle, as .NET's own calls do: a socket disposed
            // meanwhile keeps its descriptor (whose number could be reused) until the call returns, and then the next
            // call throws ObjectDisposedException.
            var length = TryReceive(buffer, from, out receivedAt, out local, out var errno);
            if (length >= 0) return length;
            if (errno == EIntr) continue;
            if (errno != EAgain) throw new SocketException((int)SocketErrorFromErrno(errno));
            var ready = Poll(wait);
            if (ready == 0) return 0;
            if (ready < 0 && Marshal.GetLastPInvokeError() != EIntr) throw new SocketException((int)SocketErrorFromErrno(Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>
    /// Takes one datagram if one is waiting, without waiting: its length, or -1 when none is (then
    /// <see cref="WaitReadable"/>). The rest as <see cref="Receive(Span{byte}, SocketAddress, TimeSpan, out long, out UdpLocalAddress)"/>.
    /// </summary>
    public int ReceiveWaiting(Span<byte> buffer, SocketAddress from, out long receivedAt, out UdpLocalAddress local)
    {
        while (true)
        {
            var length = TryReceive(buffer, from, out receivedAt, out local, out var errno);
            if (length >= 0) return length;
            if (errno == EIntr) continue;
            if (errno == EAgain) return -1;
            throw new SocketException((int)SocketErrorFromErrno(errno));
        }
    }

    /// <summary>Waits up to <paramref name="wait"/> for a datagram to read; false when none came (or a signal broke the
    /// wait). Throws <see cref="ObjectDisposedException"/> once the socket is disposed.</summary>
    public bool WaitReadable(TimeSpan wait)
    {
        var ready = Poll(wait);
        if (ready < 0 && Marshal.GetLastPInvokeError() != EIntr) throw new SocketException((int)SocketErrorFromErrno(Marshal.GetLastPInvokeError()));
        return ready > 0;
    }

    /// <inheritdoc cref="Receive(Span{byte}, SocketAddress, TimeSpan, out long, out UdpLocalAddress)"/>
    public int Receive(Span<byte> buffer, SocketAddress from, TimeSpan wait, out long receivedAt) =>
        Receive(buffer, from, wait, out receivedAt, out _);

    private int Poll(TimeSpan wait)
    {
        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            var fds = new PollFd { Fd = (int)_handle.DangerousGetHandle(), Events = PollIn };
            return poll(&fds, 1, (int)Math.Clamp(wait.TotalMilliseconds, 0, int.MaxValue));
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    private int TryReceive(Span<byte> buffer, SocketAddress from, out long receivedAt, out UdpLocalAddress local, out int errno)
    {
        receivedAt = 0;
        local = default;
        errno = 0;
        var name = from.Buffer.Span;
        fixed (byte* data = buffer)
        fixed (byte* address = name)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var header = new MessageHeader
            {
                Name = address,
                NameLength = (uint)name.Length,
                Iov = &iov,
                IovLength = 1,
                Control = _control,
                ControlLength = ControlSize,
            };
            var received = recvmsg(_handle, &header, MsgDontWait);
            if (received < 0)
            {
                errno = Marshal.GetLastPInvokeError();
                return -1;
            }
            var stamp = Stopwatch.GetTimestamp();
            from.Size = (int)header.NameLength;
            receivedAt = stamp;
            if (PacketInfo) local = ReadPacketInfo(&header);
            if (KernelTimestamps && TryReadTimestamp(&header, out var kernelTicks))
            {
                // The kernel's clock is the wall clock; how long ago it stamped the datagram is measured on that clock
                // and carried over to the monotonic one (RFC-style arrival times need spacing, not the wall time).
                var age = Math.Clamp(DateTime.UtcNow.Ticks - kernelTicks, 0, MaxAgeTicks);
                receivedAt = stamp - (long)(age * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
                KernelStamped++;
            }
            return (int)received;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.AlignedFree(_control);
    }

    private bool _disposed;
}
