using System.Net;
using System.Net.Sockets;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Stun;
using static TeleRehab.Media.Tests.Ice.IceTestUtil;

namespace TeleRehab.Media.Tests.Ice;

public class IceControllingAgentTests
{
    private static readonly IceCredentials ServerCreds = new("srvU", "serverpassword12345678901");
    private static readonly IceCredentials ClientCreds = new("cliU", "clientpassword12345678901");

    /// <summary>Both agents wired together in memory; time advances only through <see cref="RunUntil"/>.</summary>
    private sealed class Harness
    {
        public readonly IceControllingAgent Client;
        public readonly IceLiteAgent Server;
        public TimeSpan Now;
        public bool DropAll;
        public readonly List<(TimeSpan At, IPEndPoint To, byte[] Data)> Sent = [];
        public readonly List<IceRequestResult> ServerResults = [];
        public readonly HashSet<IPEndPoint> Reachable = [ServerEndPoint];

        public Harness(IceControllingOptions? options = null, IceCredentials? clientViewOfServer = null)
        {
            Client = new IceControllingAgent(ClientCreds, clientViewOfServer ?? ServerCreds, options ?? new IceControllingOptions { Random = new Random(1) });
            Server = new IceLiteAgent(ServerCreds, ClientCreds);
        }

        public void Flush()
        {
            var buffer = new byte[1500];
            var response = new byte[1500];
            while (Client.TryPollTransmit(buffer, out int length, out SocketAddress? to))
            {
                var dest = SocketAddressHelper.ToEndPoint(to!);
                Sent.Add((Now, dest, buffer[..length]));
                if (DropAll || !Reachable.Contains(dest)) continue;
                var result = Server.HandleBindingRequest(buffer.AsSpan(0, length), ClientEndPoint, Now, response);
                ServerResults.Add(result);
                if (result.HasResponse) Client.HandleResponse(response.AsSpan(0, result.ResponseLength), dest, Now);
            }
        }

        public void RunUntil(TimeSpan end)
        {
            while (true)
            {
                var next = Client.NextTimeout;
                if (next is null || next > end) { Now = end; return; }
                if (next > Now) Now = next.Value;
                Client.HandleTimeout(Now);
                Server.HandleTimeout(Now);
                Flush();
            }
        }
    }

    private static IceCandidate Host(IPEndPoint ep, int localPref = 65535, string foundation = "1") => new()
    {
        Foundation = foundation,
        Address = ep.Address.ToString(),
        Port = ep.Port,
        Priority = IceCandidate.ComputePriority(IceCandidateType.Host, localPref),
    };

    [Fact]
    public void ConnectsToLitePeerEndToEnd()
    {
        var h = new Harness();
        Assert.Equal(IceConnectionState.New, h.Client.State);
        Assert.True(h.Client.AddRemoteCandidate(Host(ServerEndPoint)));
        h.RunUntil(TimeSpan.FromSeconds(1));

        Assert.Equal(IceConnectionState.Connected, h.Client.State);
        Assert.Equal(ServerEndPoint, h.Client.SelectedRemoteEndPoint);
        Assert.Equal(ServerEndPoint, SocketAddressHelper.ToEndPoint(h.Client.SelectedRemote!));
        Assert.Equal(ClientEndPoint, h.Client.MappedAddress);
        Assert.Equal(IceConnectionState.Connected, h.Server.State);
        Assert.Equal(ClientEndPoint, h.Server.SelectedRemoteEndPoint);
        // Aggressive nomination: one check, answered at once.
        Assert.Single(h.Sent);
        Assert.True(StunMessage.TryParse(h.Sent[0].Data, out var check));
        Assert.True(check.HasUseCandidate);
        Assert.True(check.TryGetIceControlling(out ulong tie));
        Assert.Equal(h.Client.TieBreaker, tie);
        Assert.True(check.TryGetPriority(out uint prio));
        Assert.Equal(IceCandidate.ComputePriority(IceCandidateType.PeerReflexive, 65535), prio);
        Assert.True(check.TryGetUsername(out var user));
        Assert.Equal("srvU:cliU"u8.ToArray(), user.ToArray());
    }

    [Fact]
    public void RegularNominationChecksFirstThenNominates()
    {
        var h = new Harness(new IceControllingOptions { AggressiveNomination = false, Random = new Random(2) });
        h.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h.RunUntil(TimeSpan.FromSeconds(1));

        Assert.Equal(IceConnectionState.Connected, h.Client.State);
        Assert.Equal(2, h.Sent.Count);
        Assert.True(StunMessage.TryParse(h.Sent[0].Data, out var first));
        Assert.False(first.HasUseCandidate);
        Assert.True(StunMessage.TryParse(h.Sent[1].Data, out var second));
        Assert.True(second.HasUseCandidate);
        Assert.Equal(ClientEndPoint, h.Server.SelectedRemoteEndPoint);
    }

    [Fact]
    public void ChecksHighestPriorityFirstPacedByTaAndSelectsTheReachablePair()
    {
        var h = new Harness();
        var unreachable = new IPEndPoint(IPAddress.Parse("192.0.2.99"), 9999);
        h.Client.AddRemoteCandidate(Host(ServerEndPoint, localPref: 100, foundation: "2"));
        h.Client.AddRemoteCandidate(Host(unreachable, localPref: 65535, foundation: "1"));
        Assert.False(h.Client.AddRemoteCandidate(Host(unreachable))); // duplicate
        h.RunUntil(TimeSpan.FromSeconds(2));

        Assert.Equal(unreachable, h.Sent[0].To);
        Assert.Equal(ServerEndPoint, h.Sent[1].To);
        Assert.Equal(TimeSpan.FromMilliseconds(50), h.Sent[1].At - h.Sent[0].At);
        Assert.Equal(IceConnectionState.Connected, h.Client.State);
        Assert.Equal(ServerEndPoint, h.Client.SelectedRemoteEndPoint);
        // Once connected, checks to the other pair stop: no retransmission to it after selection.
        Assert.DoesNotContain(h.Sent, s => s.To.Equals(unreachable) && s.At > h.Sent[1].At);
    }

    [Fact]
    public void RetransmitsWithRfc8489ScheduleThenFails()
    {
        var h = new Harness { DropAll = true };
        h.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h.RunUntil(TimeSpan.FromSeconds(60));

        // RTO = 500 ms, Rc = 7, Rm = 16 (RFC 8489 §6.2.1): 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, give up at 39.5 s.
        double[] expected = [0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5];
        Assert.Equal(expected, h.Sent.Select(s => s.At.TotalSeconds).ToArray());
        var ids = h.Sent.Select(s => { StunMessage.TryParse(s.Data, out var m); return m.TransactionId; }).Distinct();
        Assert.Single(ids); // retransmissions reuse the transaction ID
        Assert.Equal(IceConnectionState.Failed, h.Client.State);
        Assert.Null(h.Client.NextTimeout);

        var h2 = new Harness { DropAll = true };
        h2.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h2.RunUntil(TimeSpan.FromSeconds(39.4));
        Assert.Equal(IceConnectionState.Checking, h2.Client.State);
        h2.RunUntil(TimeSpan.FromSeconds(39.5));
        Assert.Equal(IceConnectionState.Failed, h2.Client.State);
    }

    [Fact]
    public void LostFirstTransmissionIsRecoveredByARetransmission()
    {
        var h = new Harness { DropAll = true };
        h.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h.RunUntil(TimeSpan.FromMilliseconds(100));
        h.DropAll = false;
        h.RunUntil(TimeSpan.FromSeconds(1));
        Assert.Equal(2, h.Sent.Count);
        Assert.Equal(IceConnectionState.Connected, h.Client.State);
    }

    [Fact]
    public void WrongPasswordIsRejectedWith401AndTheCheckEventuallyFails()
    {
        var wrong = new IceCredentials("srvU", "notTheServerPassword12345");
        var h = new Harness(clientViewOfServer: wrong);
        h.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h.RunUntil(TimeSpan.FromSeconds(60));

        Assert.NotEmpty(h.ServerResults);
        Assert.All(h.ServerResults, r => Assert.Equal(401, r.ErrorCode));
        // RFC 8489 §9.1.5: the unauthenticated 401 is discarded, so the transaction times out.
        Assert.Equal(7, h.Sent.Count);
        Assert.Equal(IceConnectionState.Failed, h.Client.State);
        Assert.Equal(IceConnectionState.New, h.Server.State);
    }

    [Fact]
    public void ConsentChecksEveryFiveSecondsKeepBothSidesConnected()
    {
        var h = new Harness();
        h.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h.RunUntil(TimeSpan.FromMinutes(3));

        Assert.Equal(IceConnectionState.Connected, h.Client.State);
        Assert.Equal(IceConnectionState.Connected, h.Server.State);
        Assert.False(h.Server.IsConsentExpired(h.Now));
        var times = h.Sent.Select(s => s.At).ToList();
        Assert.True(times.Count > 30);
        for (int i = 1; i < times.Count; i++)
        {
            var gap = times[i] - times[i - 1];
            Assert.InRange(gap, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6)); // 5 s * [0.8, 1.2]
        }
        Assert.True(StunMessage.TryParse(h.Sent[^1].Data, out var consent));
        Assert.False(consent.HasUseCandidate);
        Assert.True(consent.TryGetIceControlling(out _));
    }

    [Fact]
    public void ConsentIsLostThirtySecondsAfterTheLastResponse()
    {
        var h = new Harness();
        h.Client.AddRemoteCandidate(Host(ServerEndPoint));
        h.RunUntil(TimeSpan.FromSeconds(20));
        Assert.Equal(IceConnectionState.Connected, h.Client.State);
        var lastAnswered = h.Sent[^1].At;
        h.DropAll = true;
        h.RunUntil(lastAnswered + TimeSpan.FromSeconds(29.9));
        Assert.Equal(IceConnectionState.Connected, h.Client.State);
        Assert.False(h.Server.IsConsentExpired(h.Now));
        h.RunUntil(lastAnswered + TimeSpan.FromSeconds(30));
        Assert.Equal(IceConnectionState.Failed, h.Client.State);
        Assert.True(h.Client.ConsentLost);
        Assert.True(h.Server.IsConsentExpired(h.Now));
        h.Server.HandleTimeout(h.Now);
        Assert.Equal(IceConnectionState.Failed, h.Server.State);
        Assert.False(h.Client.TryPollTransmit(new byte[1500], out _, out _)); // stops sending
    }

    [Fact]
    public void RoleConflictResponseFailsThePairAndIsReported()
    {
        var client = new IceControllingAgent(ClientCreds, ServerCreds);
        client.AddRemoteCandidate(Host(ServerEndPoint));
        client.HandleTimeout(TimeSpan.Zero);
        var buffer = new byte[1500];
        Assert.True(client.TryPollTransmit(buffer, out int length, out _));
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var request));

        var response = new byte[1500];
        var w = new StunMessageWriter(response, StunMessageType.BindingError, request.TransactionIdBytes);
        w.AddErrorCode(StunErrorCodes.RoleConflict);
        int n = w.Complete(ServerCreds.PasswordBytes);
        Assert.True(client.HandleResponse(response.AsSpan(0, n), ServerEndPoint, TimeSpan.FromMilliseconds(10)));
        Assert.True(client.RoleConflictDetected);
        Assert.Equal(IceConnectionState.Failed, client.State);
    }

    [Fact]
    public void ResponsesWithUnknownTransactionWrongSourceOrNoIntegrityAreHandledPerRfc()
    {
        var client = new IceControllingAgent(ClientCreds, ServerCreds);
        client.AddRemoteCandidate(Host(ServerEndPoint));
        client.HandleTimeout(TimeSpan.Zero);
        var buffer = new byte[1500];
        Assert.True(client.TryPollTransmit(buffer, out int length, out _));
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var request));
        var response = new byte[1500];

        // Unknown transaction: ignored.
        var w = new StunMessageWriter(response, StunMessageType.BindingSuccess, StunTransactionId.NewRandom());
        w.AddXorMappedAddress(ClientEndPoint);
        int n = w.Complete(ServerCreds.PasswordBytes);
        Assert.False(client.HandleResponse(response.AsSpan(0, n), ServerEndPoint, TimeSpan.Zero));

        // No MESSAGE-INTEGRITY: discarded as if never received.
        w = new StunMessageWriter(response, StunMessageType.BindingSuccess, request.TransactionIdBytes);
        w.AddXorMappedAddress(ClientEndPoint);
        n = w.CompleteWithoutIntegrity();
        Assert.False(client.HandleResponse(response.AsSpan(0, n), ServerEndPoint, TimeSpan.Zero));
        Assert.Equal(IceConnectionState.Checking, client.State);

        // Valid, but from another address: non-symmetric, the pair fails (RFC 8445 §7.2.5.2.1).
        w = new StunMessageWriter(response, StunMessageType.BindingSuccess, request.TransactionIdBytes);
        w.AddXorMappedAddress(ClientEndPoint);
        n = w.Complete(ServerCreds.PasswordBytes);
        Assert.True(client.HandleResponse(response.AsSpan(0, n), new IPEndPoint(IPAddress.Parse("10.0.0.1"), 3479), TimeSpan.Zero));
        Assert.Equal(IceConnectionState.Failed, client.State);
        Assert.Null(client.SelectedRemote);
    }

    [Fact]
    public void OnlyCheckableCandidatesAreAdded()
    {
        var client = new IceControllingAgent(ClientCreds, ServerCreds);
        Assert.Null(client.NextTimeout);
        Assert.False(client.AddRemoteCandidate(IceCandidate.Parse("candidate:1 1 udp 2130706431 abcd-1234.local 5000 typ host")));
        Assert.False(client.AddRemoteCandidate(IceCandidate.Parse("candidate:1 1 tcp 1518280447 10.0.0.1 443 typ host tcptype passive")));
        Assert.False(client.AddRemoteCandidate(IceCandidate.Parse("candidate:1 2 udp 2130706430 10.0.0.1 5001 typ host")));
        Assert.True(client.AddRemoteCandidate(IceCandidate.Parse("candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host")));
        Assert.Equal(1, client.RemoteCandidateCount);
        Assert.Equal(TimeSpan.Zero, client.NextTimeout);

        var tcp = new IceControllingAgent(ClientCreds, ServerCreds, new IceControllingOptions { Transport = IceTransport.Tcp });
        Assert.False(tcp.AddRemoteCandidate(IceCandidate.Parse("candidate:1 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active")));
        Assert.True(tcp.AddRemoteCandidate(IceCandidate.Parse("candidate:1 1 tcp 1518280447 10.0.0.1 443 typ host tcptype passive")));
    }

    [Fact]
    public void WorksOverIcetcpFramingEndToEnd()
    {
        // The controlling agent's checks go through RFC 4571 framing, split into 1-byte TCP segments.
        var client = new IceControllingAgent(ClientCreds, ServerCreds, new IceControllingOptions { Transport = IceTransport.Tcp });
        var server = new IceLiteAgent(ServerCreds, ClientCreds);
        client.AddRemoteCandidate(IceCandidate.Parse($"candidate:1 1 tcp 1518280447 {ServerEndPoint.Address} {ServerEndPoint.Port} typ host tcptype passive"));
        client.HandleTimeout(TimeSpan.Zero);
        var buffer = new byte[1500];
        Assert.True(client.TryPollTransmit(buffer, out int length, out _));
        var framed = new byte[1502];
        Assert.True(Rfc4571Framer.TryWriteFrame(buffer.AsSpan(0, length), framed, out int framedLength));

        var serverDeframer = new Rfc4571Deframer();
        var response = new byte[1500];
        IceRequestResult result = default;
        for (int i = 0; i < framedLength; i++)
        {
            ReadOnlySpan<byte> segment = framed.AsSpan(i, 1);
            while (serverDeframer.TryReadFrame(ref segment, out var frame))
                result = server.HandleBindingRequest(frame, ClientEndPoint, TimeSpan.Zero, response);
        }
        Assert.Equal(IceRequestOutcome.SuccessResponse, result.Outcome);
        Assert.True(client.HandleResponse(response.AsSpan(0, result.ResponseLength), ServerEndPoint, TimeSpan.Zero));
        Assert.Equal(IceConnectionState.Connected, client.State);
        Assert.Equal(IceConnectionState.Connected, server.State);
    }
}
