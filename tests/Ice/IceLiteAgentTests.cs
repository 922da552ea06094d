using System.Net;
using System.Text;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Stun;
using static TeleRehab.Media.Tests.Ice.IceTestUtil;

namespace TeleRehab.Media.Tests.Ice;

public class IceLiteAgentTests
{
    private static readonly IceCredentials Local = new("srvU", "serverpassword12345678901");
    private static readonly IceCredentials Remote = new("brwU", "browserpassword1234567890");
    private static readonly string GoodUser = "srvU:brwU";

    private static IceLiteAgent NewAgent(bool knowRemote = true) => new(Local, knowRemote ? Remote : null, tieBreaker: 1000);

    [Fact]
    public void IsAuthenticCheckAcceptsOnlyChecksWithTheLocalPasswordUsernameAndFingerprint()
    {
        var agent = NewAgent();
        Assert.True(agent.IsAuthenticCheck(BuildRequest(GoodUser, Local.Password)));
        Assert.False(agent.IsAuthenticCheck(BuildRequest(GoodUser, Remote.Password)));
        Assert.False(agent.IsAuthenticCheck(BuildRequest(GoodUser, null)));
        Assert.False(agent.IsAuthenticCheck(BuildRequest(GoodUser, Local.Password, fingerprint: false)));
        Assert.False(agent.IsAuthenticCheck(BuildRequest("srvU:other", Local.Password)));
        Assert.False(agent.IsAuthenticCheck(BuildRequest(null, Local.Password)));
        Assert.False(agent.IsAuthenticCheck([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2]));
        Assert.Equal(IceConnectionState.New, agent.State); // nothing changed

        agent.Close();
        Assert.False(agent.IsAuthenticCheck(BuildRequest(GoodUser, Local.Password)));
    }

    [Fact]
    public void ValidCheckGetsAnAuthenticatedSuccessResponseWithTheSourceAddress()
    {
        var agent = NewAgent();
        var id = StunTransactionId.NewRandom();
        byte[] request = BuildRequest(GoodUser, Local.Password, id: id);
        var response = new byte[1500];
        var result = agent.HandleBindingRequest(request, ClientEndPoint, TimeSpan.Zero, response);

        Assert.Equal(IceRequestOutcome.SuccessResponse, result.Outcome);
        Assert.True(StunMessage.TryParse(response.AsSpan(0, result.ResponseLength), out var m));
        Assert.Equal(StunMessageType.BindingSuccess, m.MessageType);
        Assert.Equal(id, m.TransactionId);
        Assert.True(m.TryGetXorMappedAddress(out IPEndPoint? mapped));
        Assert.Equal(ClientEndPoint, mapped);
        Assert.True(StunMessage.VerifyMessageIntegrity(m, Local.PasswordBytes));
        Assert.True(StunMessage.VerifyFingerprint(m));
        Assert.Equal(IceConnectionState.Checking, agent.State);
        Assert.Null(agent.SelectedRemote);
        Assert.False(result.SelectedRemoteChanged);
    }

    [Fact]
    public void A_success_says_whether_the_check_nominated_its_pair()
    {
        // The host compares the pair's local side (the agent knows remotes only): it needs to know which checks nominate.
        var agent = NewAgent();
        var response = new byte[1500];
        Assert.False(agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password), ClientEndPoint, TimeSpan.Zero, response).Nominated);
        var nominated = agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, response);
        Assert.True(nominated.Nominated);
        Assert.True(nominated.SelectedRemoteChanged);
        var again = agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, response);
        Assert.True(again.Nominated);
        Assert.False(again.SelectedRemoteChanged);
        Assert.False(agent.HandleBindingRequest(BuildRequest(GoodUser, Remote.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, response).Nominated);
    }

    [Fact]
    public void UseCandidateSelectsThePairAndANewNominationSwitchesIt()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        var r1 = agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, response);
        Assert.True(r1.SelectedRemoteChanged);
        Assert.Equal(IceConnectionState.Connected, agent.State);
        Assert.Equal(ClientEndPoint, agent.SelectedRemoteEndPoint);

        var r2 = agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.FromSeconds(1), response);
        Assert.False(r2.SelectedRemoteChanged);

        var other = new IPEndPoint(IPAddress.Parse("2001:db8::5"), 6000);
        var r3 = agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), other, TimeSpan.FromSeconds(2), response);
        Assert.Equal(IceRequestOutcome.SuccessResponse, r3.Outcome);
        Assert.True(r3.SelectedRemoteChanged);
        Assert.Equal(other, agent.SelectedRemoteEndPoint);
        Assert.True(StunMessage.TryParse(response.AsSpan(0, r3.ResponseLength), out var m));
        Assert.True(m.TryGetXorMappedAddress(out IPEndPoint? mapped));
        Assert.Equal(other, mapped);
    }

    [Fact]
    public void SelectedRemoteIsACopyOfTheCallersSocketAddress()
    {
        var agent = NewAgent();
        var receiveAddress = ClientEndPoint.Serialize();
        agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), receiveAddress, TimeSpan.Zero, new byte[1500]);
        receiveAddress.Buffer.Span[7] ^= 0xFF; // the host reuses its receive buffer for the next datagram
        Assert.Equal(ClientEndPoint, SocketAddressHelper.ToEndPoint(agent.SelectedRemote!));
    }

    [Fact]
    public void WrongPasswordGets401WithoutMessageIntegrity()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        var result = agent.HandleBindingRequest(BuildRequest(GoodUser, "notthepassword1234567890"), ClientEndPoint, TimeSpan.Zero, response);
        AssertError(result, response, 401, expectIntegrity: false);
        Assert.Equal(IceConnectionState.New, agent.State);
        Assert.Null(agent.LastConsentTime);
    }

    [Theory]
    [InlineData("xxxx:brwU")]  // not our ufrag
    [InlineData("srvU:zzzz")]  // not the remote's ufrag
    [InlineData("srvU")]       // no colon
    [InlineData("srvU:")]      // empty remote part
    [InlineData("srvUx:brwU")] // our ufrag is only a prefix
    public void BadUsernameGets401(string username)
    {
        var agent = NewAgent();
        var response = new byte[1500];
        var result = agent.HandleBindingRequest(BuildRequest(username, Local.Password), ClientEndPoint, TimeSpan.Zero, response);
        AssertError(result, response, 401, expectIntegrity: false);
    }

    [Fact]
    public void AnyRemoteUfragIsAcceptedWhenRemoteCredentialsAreUnknown()
    {
        var agent = NewAgent(knowRemote: false);
        var result = agent.HandleBindingRequest(BuildRequest("srvU:anything", Local.Password), ClientEndPoint, TimeSpan.Zero, new byte[1500]);
        Assert.Equal(IceRequestOutcome.SuccessResponse, result.Outcome);
    }

    [Fact]
    public void MissingUsernameOrIntegrityGets400()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        AssertError(agent.HandleBindingRequest(BuildRequest(null, Local.Password), ClientEndPoint, TimeSpan.Zero, response), response, 400, false);
        AssertError(agent.HandleBindingRequest(BuildRequest(GoodUser, null), ClientEndPoint, TimeSpan.Zero, response), response, 400, false);
        Assert.Equal(IceConnectionState.New, agent.State);
    }

    [Fact]
    public void MissingOrBadFingerprintAndNonRequestsAreDiscarded()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        Assert.Equal(IceRequestOutcome.Discarded, agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, fingerprint: false), ClientEndPoint, TimeSpan.Zero, response).Outcome);

        byte[] bad = BuildRequest(GoodUser, Local.Password);
        bad[^1] ^= 1;
        Assert.Equal(IceRequestOutcome.Discarded, agent.HandleBindingRequest(bad, ClientEndPoint, TimeSpan.Zero, response).Outcome);

        Assert.Equal(IceRequestOutcome.Discarded, agent.HandleBindingRequest(Rfc5769Response(), ClientEndPoint, TimeSpan.Zero, response).Outcome);
        Assert.Equal(IceRequestOutcome.Discarded, agent.HandleBindingRequest([0x80, 0x60, 0, 1], ClientEndPoint, TimeSpan.Zero, response).Outcome);
        Assert.Equal(IceConnectionState.New, agent.State);
    }

    private static byte[] Rfc5769Response() => Convert.FromHexString(
        "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643" +
        "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96");

    [Fact]
    public void PeerClaimingControlledGetsAuthenticated487()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        var result = agent.HandleBindingRequest(
            BuildRequest(GoodUser, Local.Password, controlling: false, controlled: true, useCandidate: true),
            ClientEndPoint, TimeSpan.Zero, response);
        AssertError(result, response, 487, expectIntegrity: true);
        Assert.Null(agent.SelectedRemote); // a conflicting check does not nominate
    }

    [Fact]
    public void UnknownComprehensionRequiredAttributeGets420()
    {
        var agent = NewAgent();
        var buffer = new byte[512];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, StunTransactionId.NewRandom());
        w.AddUsername(Encoding.ASCII.GetBytes(GoodUser));
        w.AddAttribute((StunAttributeType)0x7777, [1, 2, 3, 4]);    // unknown, comprehension-required
        w.AddAttribute((StunAttributeType)0xC057, [0, 1, 0, 10]);   // unknown but optional: fine
        w.AddIceControlling(5);
        int n = w.Complete(Local.PasswordBytes);
        var response = new byte[1500];
        var result = agent.HandleBindingRequest(buffer.AsSpan(0, n), ClientEndPoint, TimeSpan.Zero, response);
        AssertError(result, response, 420, expectIntegrity: true);
        Assert.True(StunMessage.TryParse(response.AsSpan(0, result.ResponseLength), out var m));
        Assert.True(m.TryGetAttribute(StunAttributeType.UnknownAttributes, out var list));
        Assert.Equal(new byte[] { 0x77, 0x77 }, list.ToArray());
    }

    [Fact]
    public void CheckWithoutRoleAttributeIsAnswered()
    {
        var agent = NewAgent();
        var result = agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, controlling: false), ClientEndPoint, TimeSpan.Zero, new byte[1500]);
        Assert.Equal(IceRequestOutcome.SuccessResponse, result.Outcome);
    }

    [Fact]
    public void ConsentExpiresThirtySecondsAfterTheLastValidCheck()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.FromSeconds(1), response);
        Assert.Equal(TimeSpan.FromSeconds(31), agent.NextTimeout);
        Assert.False(agent.IsConsentExpired(TimeSpan.FromSeconds(30.9)));
        Assert.False(agent.HandleTimeout(TimeSpan.FromSeconds(30.9)));
        Assert.True(agent.IsConsentExpired(TimeSpan.FromSeconds(31)));
        Assert.True(agent.HandleTimeout(TimeSpan.FromSeconds(31)));
        Assert.Equal(IceConnectionState.Failed, agent.State);
        Assert.Null(agent.NextTimeout);
    }

    [Fact]
    public void ChecksFromTheSelectedRemoteKeepConsentAlive()
    {
        var agent = NewAgent();
        var response = new byte[1500];
        agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, response);
        var stranger = new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1234);
        for (int s = 5; s <= 100; s += 5)
        {
            var now = TimeSpan.FromSeconds(s);
            agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password), ClientEndPoint, now, response);
            agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password), stranger, now + TimeSpan.FromSeconds(2), response);
            agent.HandleTimeout(now + TimeSpan.FromSeconds(2));
            Assert.False(agent.IsConsentExpired(now + TimeSpan.FromSeconds(2)));
        }
        Assert.Equal(IceConnectionState.Connected, agent.State);
        // Only the stranger keeps checking: it does not refresh the selected pair's consent.
        for (int s = 105; s <= 130; s += 5)
            agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password), stranger, TimeSpan.FromSeconds(s), response);
        Assert.True(agent.IsConsentExpired(TimeSpan.FromSeconds(130)));
        Assert.True(agent.HandleTimeout(TimeSpan.FromSeconds(130)));
        Assert.Equal(IceConnectionState.Failed, agent.State);
    }

    [Fact]
    public void ConsentTimeoutIsConfigurable()
    {
        var agent = new IceLiteAgent(Local, Remote) { ConsentTimeout = TimeSpan.FromSeconds(10) };
        agent.HandleBindingRequest(BuildRequest(GoodUser, Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, new byte[1500]);
        Assert.False(agent.IsConsentExpired(TimeSpan.FromSeconds(9)));
        Assert.True(agent.IsConsentExpired(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void DemultiplexerCanReadTheLocalUfragOfAnUnverifiedRequest()
    {
        byte[] request = BuildRequest(GoodUser, "whatever-we-do-not-know-it");
        Assert.True(StunMessage.TryGetLocalUfrag(request, out var ufrag));
        Assert.Equal("srvU", Encoding.ASCII.GetString(ufrag));
        Assert.False(StunMessage.TryGetLocalUfrag(BuildRequest("nocolon", Local.Password), out _));
        Assert.False(StunMessage.TryGetLocalUfrag(BuildRequest(null, Local.Password), out _));
    }

    [Fact]
    public void RepeatedChecksFromTheSelectedRemoteDoNotAllocate()
    {
        var agent = NewAgent();
        var remote = ClientEndPoint.Serialize();
        byte[] request = BuildRequest(GoodUser, Local.Password, useCandidate: true);
        var response = new byte[1500];
        agent.HandleBindingRequest(request, remote, TimeSpan.Zero, response);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i <= 100; i++)
            agent.HandleBindingRequest(request, remote, TimeSpan.FromSeconds(i), response);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void AssertError(IceRequestResult result, byte[] response, int code, bool expectIntegrity)
    {
        Assert.Equal(IceRequestOutcome.ErrorResponse, result.Outcome);
        Assert.Equal(code, result.ErrorCode);
        Assert.True(StunMessage.TryParse(response.AsSpan(0, result.ResponseLength), out var m));
        Assert.Equal(StunMessageType.BindingError, m.MessageType);
        Assert.True(m.TryGetErrorCode(out int parsed, out _));
        Assert.Equal(code, parsed);
        Assert.Equal(expectIntegrity, m.HasMessageIntegrity);
        if (expectIntegrity) Assert.True(StunMessage.VerifyMessageIntegrity(m, Local.PasswordBytes));
        Assert.True(StunMessage.VerifyFingerprint(m));
    }
}
