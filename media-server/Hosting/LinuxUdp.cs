using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TeleRehab.Media.Hosting;

/// <summary>
/// The Linux system calls the UDP socket needs beyond .NET's: recvmsg(2) / recvmmsg(2) with control messages (the kernel's receive
/// time, the datagram's destination address) and sendmsg(2) / sendmmsg(2) with a source address (IP_PKTINFO / IPV6_PKTINFO). 64-bit
/// Linux only (<see cref="IsSupported"/>): the structures below are its layouts. Nothing here allocates.
/// </summary>
internal static unsafe class LinuxUdp
{
    public const int SolSocket = 1;
    public const int SoTimestampNs = 35; // SO_TIMESTAMPNS_OLD on 64-bit Linux; the control message type is the same
    public const int IpProtoIp = 0;
    public const int IpPktInfo = 8;          // IP_PKTINFO: option and control message type
    public const int IpProtoIpv6 = 41;
    public const int Ipv6RecvPktInfo = 49;   // IPV6_RECVPKTINFO: the option
    public const int Ipv6PktInfo = 50;       // IPV6_PKTINFO: the control message type
    public const int MsgDontWait = 0x40;
    public const int PollIn = 0x001;
    public const int EAgain = 11, EIntr = 4;

    /// <summary>Control space for one in_pktinfo / in6_pktinfo message (CMSG_SPACE of 12 or 20 bytes: 32 or 40).</summary>
    public const int PacketInfoSpace = 40;

    public static bool IsSupported => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>Asks the kernel to report each datagram's destination address (IP_PKTINFO for an IPv4 socket,
    /// IPV6_RECVPKTINFO for an IPv6 one). False where that is not available.</summary>
    public static bool TryEnablePacketInfo(Socket socket)
    {
        if (!IsSupported) return false;
        try
        {
            Span<byte> on = stackalloc byte[4];
            BitConverter.TryWriteBytes(on, 1);
            if (socket.AddressFamily == AddressFamily.InterNetworkV6) socket.SetRawSocketOption(IpProtoIpv6, Ipv6RecvPktInfo, on);
            else socket.SetRawSocketOption(IpProtoIp, IpPktInfo, on);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Reads the destination address from a received message's control data (in_pktinfo's ipi_addr: the
    /// header's destination; ipi_spec_dst, the local address the kernel would answer from, only for a multicast or
    /// broadcast destination, which is no address to send from). Default when the message carries none.</summary>
    public static UdpLocalAddress ReadPacketInfo(MessageHeader* header)
    {
        var control = (byte*)header->Control;
        var end = (int)header->ControlLength;
        for (var offset = 0; offset + sizeof(ControlHeader) <= end;)
        {
            var cmsg = (ControlHeader*)(control + offset);
            var length = (int)cmsg->Length;
            if (length < sizeof(ControlHeader) || offset + length > end) break;
            var data = new ReadOnlySpan<byte>(control + offset + sizeof(ControlHeader), length - sizeof(ControlHeader));
            if (cmsg->Level == IpProtoIp && cmsg->Type == IpPktInfo && data.Length >= 12)
            {
                // struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; }
                var destination = data.Slice(8, 4);
                return destination[0] >= 224 || destination.SequenceEqual(LimitedBroadcast)
                    ? UdpLocalAddress.FromIPv4(data.Slice(4, 4))
                    : UdpLocalAddress.FromIPv4(destination);
            }
            if (cmsg->Level == IpProtoIpv6 && cmsg->Type == Ipv6PktInfo && data.Length >= 20)
            {
                // struct in6_pktinfo { struct in6_addr ipi6_addr; int ipi6_ifindex; }
                if (data[0] == 0xff) return default; // multicast: nothing to send from
                return UdpLocalAddress.FromIPv6(data[..16], MemoryMarshal.Read<int>(data[16..]));
            }
            offset += (length + 7) & ~7;
        }
        return default;
    }

    private static ReadOnlySpan<byte> LimitedBroadcast => [255, 255, 255, 255];

    /// <summary>Asks the kernel for each datagram's receive time (SO_TIMESTAMPNS); false where it cannot.</summary>
    public static bool TryEnableTimestamps(Socket socket)
    {
        try
        {
            Span<byte> on = stackalloc byte[4];
            BitConverter.TryWriteBytes(on, 1);
            socket.SetRawSocketOption(SolSocket, SoTimestampNs, on);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or PlatformNotSupportedException or DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private const long UnixEpochTicks = 621_355_968_000_000_000; // DateTime.UnixEpoch.Ticks

    /// <summary>The kernel's receive time of a message (SCM_TIMESTAMPNS in its control data) as UTC ticks; false when
    /// the message carries none.</summary>
    public static bool TryReadTimestamp(MessageHeader* header, out long ticks)
    {
        ticks = 0;
        // cmsg(3): headers aligned to sizeof(size_t); SCM_TIMESTAMPNS carries a struct timespec.
        var offset = 0;
        var end = (int)header->ControlLength;
        var control = (byte*)header->Control;
        while (offset + sizeof(ControlHeader) <= end)
        {
            var cmsg = (ControlHeader*)(control + offset);
            var length = (int)cmsg->Length;
            if (length < sizeof(ControlHeader) || offset + length > end) return false;
            if (cmsg->Level == SolSocket && cmsg->Type == SoTimestampNs && length >= sizeof(ControlHeader) + 16)
            {
                var spec = (long*)(control + offset + sizeof(ControlHeader));
                ticks = UnixEpochTicks + spec[0] * TimeSpan.TicksPerSecond + spec[1] / 100;
                return true;
            }
            offset += (length + 7) & ~7;
        }
        return false;
    }

    /// <summary>The socket error a receive's errno stands for.</summary>
    public static SocketError SocketErrorFromErrno(int errno) => errno switch
    {
        111 => SocketError.ConnectionRefused, // ECONNREFUSED: ICMP port unreachable for an earlier send
        9 => SocketError.OperationAborted,    // EBADF
        _ => SocketError.SocketError,
    };

    /// <summary>
    /// Sends <paramref name="datagram"/> to <paramref name="remote"/> (a native sockaddr, as <see cref="System.Net.SocketAddress"/>
    /// holds it) from <paramref name="source"/> (<see cref="WritePacketInfo"/>). Returns the errno, 0 on success.
    /// Throws <see cref="ObjectDisposedException"/> once the socket's handle is closed.
    /// </summary>
    public static int SendFrom(SafeHandle socket, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> remote, in UdpLocalAddress source)
    {
        var control = stackalloc ulong[PacketInfoSpace / 8]; // 8-byte aligned, as cmsg(3) needs
        var controlLength = WritePacketInfo(new Span<byte>(control, PacketInfoSpace), source);

        fixed (byte* payload = datagram)
        fixed (byte* name = remote)
        {
            var iov = new IoVec { Base = payload, Length = (nuint)datagram.Length };
            var header = new MessageHeader
            {
                Name = name,
                NameLength = (uint)remote.Length,
                Iov = &iov,
                IovLength = 1,
                Control = controlLength > 0 ? (byte*)control : null,
                ControlLength = (nuint)controlLength,
            };
            return sendmsg(socket, &header, 0) < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }

    /// <summary>Writes the control message that names <paramref name="source"/> as a datagram's source address into
    /// <paramref name="control"/> (8-byte aligned, <see cref="PacketInfoSpace"/> bytes): IP_PKTINFO with ipi_spec_dst
    /// (ipi_ifindex 0 lets routing pick the interface), or IPV6_PKTINFO with the address and the interface it came in
    /// on. Returns the control length, 0 (nothing written) when the source is unknown.</summary>
    public static int WritePacketInfo(Span<byte> control, in UdpLocalAddress source)
    {
        if (!source.IsKnown) return 0;
        control[..PacketInfoSpace].Clear();
        fixed (byte* start = control)
        {
            var cmsg = (ControlHeader*)start;
            var data = control[sizeof(ControlHeader)..];
            if (source.Family == AddressFamily.InterNetwork)
            {
                cmsg->Level = IpProtoIp;
                cmsg->Type = IpPktInfo;
                cmsg->Length = (nuint)(sizeof(ControlHeader) + 12);
                source.WriteAddress(data.Slice(4, 4)); // ipi_spec_dst; ipi_ifindex and ipi_addr stay 0
                return 32;
            }
            cmsg->Level = IpProtoIpv6;
            cmsg->Type = Ipv6PktInfo;
            cmsg->Length = (nuint)(sizeof(ControlHeader) + 20);
            source.WriteAddress(data[..16]);
            var index = source.InterfaceIndex;
            MemoryMarshal.Write(data[16..], in index);
            return 40;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr: a message and the bytes the kernel sent or received of it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MultiMessageHeader
    {
        public MessageHeader Header;
        public uint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct ControlHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern nint recvmsg(SafeHandle socket, MessageHeader* message, int flags);

    /// <summary>recvmmsg(2); <paramref name="timeout"/> null (the loops pass MSG_DONTWAIT and wait with poll).</summary>
    [DllImport("libc", SetLastError = true)]
    public static extern int recvmmsg(SafeHandle socket, MultiMessageHeader* messages, uint count, int flags, void* timeout);

    [DllImport("libc", SetLastError = true)]
    public static extern nint sendmsg(SafeHandle socket, MessageHeader* message, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int sendmmsg(SafeHandle socket, MultiMessageHeader* messages, uint count, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int poll(PollFd* fds, nuint count, int timeoutMs);
}
