using System.Net;
using System.Text;
using TeleRehab.Media.Ice;
using TeleRehab.Media.Stun;
using static TeleRehab.Media.Tests.Ice.IceTestUtil;

namespace TeleRehab.Media.Tests.Ice;

/// <summary>An ICE restart (RFC 8445 §9) on the ICE-lite side: both sides' credentials change (the agent's new ones go in
/// the answer, RFC 8829 §5.3.1); the old pair is still answered until the first valid check with the new one, then
/// refused (401); the selected pair and consent stay until a check with the new credentials nominates a pair, possibly
/// on a new address.</summary>
public sealed class IceLiteRestartTests
{
    private static readonly IceCredentials Local = new("srvU", "serverpassword12345678901");
    private static readonly IceCredentials Remote = new("brwU", "browserpassword1234567890");
    private static readonly IceCredentials NewLocal = new("srv2", "serverpassword22222222222");
    private static readonly IceCredentials Restarted = new("brw2", "browserpassword2222222222");
    private static readonly IPEndPoint NewPath = new(IPAddress.Parse("10.0.0.3"), 50002);

    private static IceLiteAgent ConnectedAgent()
    {
        var agent = new IceLiteAgent(Local, Remote, tieBreaker: 1000);
        var first = agent.HandleBindingRequest(BuildRequest("srvU:brwU", Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, new byte[1500]);
        Assert.Equal(IceRequestOutcome.SuccessResponse, first.Outcome);
        Assert.Equal(ClientEndPoint, agent.SelectedRemoteEndPoint);
        return agent;
    }

    private static IceRequestResult Check(IceLiteAgent agent, string username, string password, IPEndPoint from, double seconds,
        byte[]? response = null, bool useCandidate = false) =>
        agent.HandleBindingRequest(BuildRequest(username, password, useCandidate: useCandidate), from, TimeSpan.FromSeconds(seconds), response ?? new byte[1500]);

    [Fact]
    public void A_restart_gives_the_agent_new_credentials_and_keeps_the_old_pair_until_the_new_one_is_used()
    {
        var agent = ConnectedAgent();

        Assert.True(agent.Restart(Restarted, NewLocal));
        Assert.Equal(1, agent.Restarts);
        Assert.Same(NewLocal, agent.LocalCredentials);
        Assert.Same(Restarted, agent.RemoteCredentials);
        Assert.Same(Local, agent.PreviousLocalCredentials);
        // The selected path and consent stay until the new checks come.
        Assert.Equal(ClientEndPoint, agent.SelectedRemoteEndPoint);
        Assert.Equal(IceConnectionState.Connected, agent.State);

        // The peer has not applied the answer yet: its checks with the old pair are answered and keep consent.
        Assert.True(agent.IsAuthenticCheck(BuildRequest("srvU:brwU", Local.Password)));
        var old = Check(agent, "srvU:brwU", Local.Password, ClientEndPoint, 20);
        Assert.Equal(IceRequestOutcome.SuccessResponse, old.Outcome);
        Assert.Null(old.RetiredLocalCredentials);
        Assert.False(agent.IsConsentExpired(TimeSpan.FromSeconds(45)));
        // Mixed pairs are no pair at all.
        Assert.Equal(StunErrorCodes.Unauthorized, Check(agent, "srv2:brwU", NewLocal.Password, ClientEndPoint, 21).ErrorCode);
        Assert.Equal(StunErrorCodes.Unauthorized, Check(agent, "srvU:brw2", Local.Password, ClientEndPoint, 21).ErrorCode);
        Assert.Equal(StunErrorCodes.Unauthorized, Check(agent, "srv2:brw2", Local.Password, ClientEndPoint, 21).ErrorCode);
        Assert.Same(Local, agent.PreviousLocalCredentials);

        // The first valid check with the new pair: answered with MESSAGE-INTEGRITY keyed by the new password, and the
        // old credentials are retired.
        var response = new byte[1500];
        Assert.True(agent.IsAuthenticCheck(BuildRequest("srv2:brw2", NewLocal.Password)));
        var first = Check(agent, "srv2:brw2", NewLocal.Password, NewPath, 22, response);
        Assert.Equal(IceRequestOutcome.SuccessResponse, first.Outcome);
        Assert.Same(Local, first.RetiredLocalCredentials);
        Assert.Null(agent.PreviousLocalCredentials);
        var reply = response.AsSpan(0, first.ResponseLength);
        Assert.True(StunMessage.VerifyMessageIntegrity(reply, Encoding.ASCII.GetBytes(NewLocal.Password)));
        Assert.False(StunMessage.VerifyMessageIntegrity(reply, Encoding.ASCII.GetBytes(Local.Password)));
        Assert.False(first.SelectedRemoteChanged); // not nominated: the path stays
        Assert.Equal(ClientEndPoint, agent.SelectedRemoteEndPoint);

        // From now on the old pair is refused (RFC 8489 §9.1.3: 401 without MESSAGE-INTEGRITY), on any path.
        Assert.False(agent.IsAuthenticCheck(BuildRequest("srvU:brwU", Local.Password)));
        var refused = Check(agent, "srvU:brwU", Local.Password, ClientEndPoint, 23, response);
        Assert.Equal(IceRequestOutcome.ErrorResponse, refused.Outcome);
        Assert.Equal(StunErrorCodes.Unauthorized, refused.ErrorCode);
        Assert.True(StunMessage.TryParse(response.AsSpan(0, refused.ResponseLength), out var error));
        Assert.False(error.HasMessageIntegrity);

        // A nomination with the new pair moves the path; consent now follows it.
        var moved = Check(agent, "srv2:brw2", NewLocal.Password, NewPath, 24, useCandidate: true);
        Assert.Equal(IceRequestOutcome.SuccessResponse, moved.Outcome);
        Assert.Null(moved.RetiredLocalCredentials); // retired once
        Assert.True(moved.SelectedRemoteChanged);
        Assert.Equal(NewPath, agent.SelectedRemoteEndPoint);
        Assert.False(agent.IsConsentExpired(TimeSpan.FromSeconds(53)));
    }

    [Fact]
    public void A_check_with_the_old_pair_does_not_retire_it_and_an_error_with_the_new_pair_does_not_either()
    {
        var agent = ConnectedAgent();
        agent.Restart(Restarted, NewLocal);
        // A wrong password with the new ufrags is no valid check.
        Assert.Equal(StunErrorCodes.Unauthorized, Check(agent, "srv2:brw2", Local.Password, NewPath, 1).ErrorCode);
        Assert.Same(Local, agent.PreviousLocalCredentials);
        // A role conflict (487) is authenticated but not a success.
        var conflict = agent.HandleBindingRequest(BuildRequest("srv2:brw2", NewLocal.Password, controlling: false, controlled: true),
            NewPath, TimeSpan.FromSeconds(2), new byte[1500]);
        Assert.Equal(StunErrorCodes.RoleConflict, conflict.ErrorCode);
        Assert.Same(Local, agent.PreviousLocalCredentials);
        Assert.Equal(IceRequestOutcome.SuccessResponse, Check(agent, "srvU:brwU", Local.Password, ClientEndPoint, 3).Outcome);
        Assert.Same(Local, agent.PreviousLocalCredentials);
    }

    [Fact]
    public void A_second_restart_before_the_first_is_used_keeps_the_pair_in_use_and_drops_the_unused_one()
    {
        var agent = ConnectedAgent();
        agent.Restart(Restarted, NewLocal);
        var third = new IceCredentials("srv3", "serverpassword33333333333");
        var remote3 = new IceCredentials("brw3", "browserpassword3333333333");
        Assert.True(agent.Restart(remote3, third));
        Assert.Equal(2, agent.Restarts);
        Assert.Same(third, agent.LocalCredentials);
        Assert.Same(Local, agent.PreviousLocalCredentials);
        Assert.Equal(StunErrorCodes.Unauthorized, Check(agent, "srv2:brw2", NewLocal.Password, NewPath, 1).ErrorCode);
        Assert.Equal(IceRequestOutcome.SuccessResponse, Check(agent, "srvU:brwU", Local.Password, ClientEndPoint, 2).Outcome);
        var used = Check(agent, "srv3:brw3", third.Password, NewPath, 3);
        Assert.Same(Local, used.RetiredLocalCredentials);
        Assert.Equal(StunErrorCodes.Unauthorized, Check(agent, "srvU:brwU", Local.Password, ClientEndPoint, 4).ErrorCode);
    }

    [Fact]
    public void A_restart_needs_a_new_local_ufrag()
    {
        var agent = ConnectedAgent();
        Assert.Throws<ArgumentException>(() => agent.Restart(Restarted, new IceCredentials("srvU", "anotherpassword1234567890")));
        agent.Restart(Restarted, NewLocal);
        Assert.Throws<ArgumentException>(() => agent.Restart(Remote, new IceCredentials("srvU", "anotherpassword1234567890")));
        Assert.Throws<ArgumentException>(() => agent.Restart(Remote, new IceCredentials("srv2", "anotherpassword1234567890")));
        Assert.Equal(1, agent.Restarts);
    }

    [Fact]
    public void A_closed_agent_takes_no_restart()
    {
        var agent = new IceLiteAgent(Local, Remote, tieBreaker: 1000);
        agent.Close();
        Assert.False(agent.Restart(Restarted, NewLocal));
        Assert.Same(Remote, agent.RemoteCredentials);
        Assert.Same(Local, agent.LocalCredentials);
        Assert.Equal(0, agent.Restarts);
    }
}
