using System.Net;
using CsCheck;
using TeleRehab.Media.Ice;

namespace TeleRehab.Media.Tests.Ice;

public class IceCandidateTests
{
    [Theory]
    [InlineData("candidate:842163049 1 udp 1677729535 203.0.113.5 54321 typ srflx raddr 192.168.1.2 rport 54321 generation 0 ufrag abcd network-cost 999")]
    [InlineData("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host")]
    [InlineData("candidate:2 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active generation 0")]
    [InlineData("candidate:3 1 tcp 1518280447 10.0.0.1 443 typ host tcptype passive")]
    [InlineData("candidate:4 1 tcp 1518280447 10.0.0.1 443 typ host tcptype so")]
    [InlineData("candidate:5 2 udp 16777215 2001:db8::1 3478 typ relay raddr 0.0.0.0 rport 0")]
    [InlineData("candidate:6 1 udp 1845501695 198.51.100.7 4000 typ prflx")]
    [InlineData("candidate:3473581937 1 udp 2113937151 0b5c1a3e-7e2a-4f43-9c8b-2a8c2e3f2b11.local 58042 typ host generation 0 network-cost 999")]
    public void ParsesAndFormatsRoundTrip(string line)
    {
        Assert.True(IceCandidate.TryParse(line, out var c));
        Assert.Equal(line, c.ToString());
        Assert.Equal(line, IceCandidate.Parse("a=" + line).ToString());
    }

    [Fact]
    public void ParsesFields()
    {
        var c = IceCandidate.Parse("candidate:842163049 1 UDP 1677729535 203.0.113.5 54321 typ srflx raddr 192.168.1.2 rport 54322 generation 0");
        Assert.Equal("842163049", c.Foundation);
        Assert.Equal(1, c.Component);
        Assert.Equal(IceTransport.Udp, c.Transport);
        Assert.Equal(1677729535u, c.Priority);
        Assert.Equal("203.0.113.5", c.Address);
        Assert.Equal(54321, c.Port);
        Assert.Equal(IceCandidateType.ServerReflexive, c.Type);
        Assert.Equal("192.168.1.2", c.RelatedAddress);
        Assert.Equal(54322, c.RelatedPort);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("203.0.113.5"), 54321), c.EndPoint);
        Assert.Equal(new KeyValuePair<string, string>("generation", "0"), Assert.Single(c.Extensions));

        var tcp = IceCandidate.Parse("candidate:2 1 tcp 1518280447 192.168.1.2 9 typ host tcptype active");
        Assert.Equal(IceTransport.Tcp, tcp.Transport);
        Assert.Equal(IceTcpType.Active, tcp.TcpType);
        Assert.Null(IceCandidate.Parse("candidate:1 1 udp 1 x.local 1 typ host").EndPoint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("candidate:")]
    [InlineData("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ")]
    [InlineData("candidate:1 1 udp 2130706431 10.0.0.1 5000 type host")]
    [InlineData("candidate:1 1 sctp 2130706431 10.0.0.1 5000 typ host")]
    [InlineData("candidate:1 0 udp 2130706431 10.0.0.1 5000 typ host")]
    [InlineData("candidate:1 1 udp -5 10.0.0.1 5000 typ host")]
    [InlineData("candidate:1 1 udp 2130706431 10.0.0.1 70000 typ host")]
    [InlineData("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ bogus")]
    [InlineData("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host raddr")]
    [InlineData("candidate:1 1 tcp 2130706431 10.0.0.1 5000 typ host tcptype sideways")]
    [InlineData("candidate:f*o 1 udp 2130706431 10.0.0.1 5000 typ host")]
    public void RejectsMalformedLines(string line)
    {
        Assert.False(IceCandidate.TryParse(line, out _));
        Assert.Throws<FormatException>(() => IceCandidate.Parse(line));
    }

    [Fact]
    public void RandomTextNeverThrows()
    {
        Gen.String.Sample(s => { IceCandidate.TryParse(s, out _); });
        Gen.Select(Gen.Int[0, 12], Gen.String[Gen.Char["0123456789 abcdefhostypudp.:"], 0, 60])
            .Sample((n, s) => { IceCandidate.TryParse("candidate:" + new string(' ', n % 2) + s, out _); });
    }

    [Fact]
    public void ComputesPrioritiesPerRfc8445()
    {
        // 2^24 * 126 + 2^8 * 65535 + (256 - 1)
        Assert.Equal(2130706431u, IceCandidate.ComputePriority(IceCandidateType.Host, 65535, 1));
        Assert.Equal(2130706430u, IceCandidate.ComputePriority(IceCandidateType.Host, 65535, 2));
        Assert.Equal((uint)(100 << 24) + (10 << 8) + 255, IceCandidate.ComputePriority(IceCandidateType.ServerReflexive, 10, 1));
        Assert.Equal((uint)(110 << 24) + (65535 << 8) + 255, IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 65535, 1));
        Assert.Equal(255u, IceCandidate.ComputePriority(IceCandidateType.Relay, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IceCandidate.ComputePriority(IceCandidateType.Host, 65536, 1));
        // RFC 6544 §4.2: host active > passive > so.
        Assert.Equal((6 << 13) + 8191, IceCandidate.TcpLocalPreference(IceCandidateType.Host, IceTcpType.Active));
        Assert.Equal((4 << 13) + 8191, IceCandidate.TcpLocalPreference(IceCandidateType.Host, IceTcpType.Passive));
        Assert.Equal((2 << 13) + 8191, IceCandidate.TcpLocalPreference(IceCandidateType.Host, IceTcpType.SimultaneousOpen));
    }
}
