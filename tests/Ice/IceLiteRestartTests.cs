using System.Net;
using TeleRehab.Media.Ice;
using static TeleRehab.Media.Tests.Ice.IceTestUtil;

namespace TeleRehab.Media.Tests.Ice;

/// <summary>An ICE restart (RFC 8445 §9) on the ICE-lite side: the peer's new credentials replace the old ones, the
/// selected pair and consent stay until a check with the new credentials nominates a pair, possibly on a new address.</summary>
public sealed class IceLiteRestartTests
{
    private static readonly IceCredentials Local = new("srvU", "serverpassword12345678901");
    private static readonly IceCredentials Remote = new("brwU", "browserpassword1234567890");
    private static readonly IceCredentials Restarted = new("brw2", "browserpassword2222222222");
    private static readonly IPEndPoint NewPath = new(IPAddress.Parse("10.0.0.3"), 50002);

    [Fact]
    public void After_a_restart_only_the_new_credentials_check_and_a_new_nomination_moves_the_path()
    {
        var agent = new IceLiteAgent(Local, Remote, tieBreaker: 1000);
        var response = new byte[1500];
        var first = agent.HandleBindingRequest(BuildRequest("srvU:brwU", Local.Password, useCandidate: true), ClientEndPoint, TimeSpan.Zero, response);
        Assert.Equal(IceRequestOutcome.SuccessResponse, first.Outcome);
        Assert.Equal(ClientEndPoint, agent.SelectedRemoteEndPoint);

        Assert.True(agent.Restart(Restarted));
        Assert.Equal(1, agent.Restarts);
        Assert.Same(Restarted, agent.RemoteCredentials);
        // The selected path and consent stay until the new checks come.
        Assert.Equal(ClientEndPoint, agent.SelectedRemoteEndPoint);
        Assert.Equal(IceConnectionState.Connected, agent.State);
        Assert.False(agent.IsConsentExpired(TimeSpan.FromSeconds(29)));

        // Checks with the old ufrag are refused; the new ones are answered and their nomination moves the path.
        Assert.False(agent.IsAuthenticCheck(BuildRequest("srvU:brwU", Local.Password)));
        var old = agent.HandleBindingRequest(BuildRequest("srvU:brwU", Local.Password), ClientEndPoint, TimeSpan.FromSeconds(1), response);
        Assert.Equal(IceRequestOutcome.ErrorResponse, old.Outcome);
        Assert.True(agent.IsAuthenticCheck(BuildRequest("srvU:brw2", Local.Password)));
        var moved = agent.HandleBindingRequest(BuildRequest("srvU:brw2", Local.Password, useCandidate: true), NewPath, TimeSpan.FromSeconds(2), response);
        Assert.Equal(IceRequestOutcome.SuccessResponse, moved.Outcome);
        Assert.True(moved.SelectedRemoteChanged);
        Assert.Equal(NewPath, agent.SelectedRemoteEndPoint);
        Assert.False(agent.IsConsentExpired(TimeSpan.FromSeconds(31)));
    }

    [Fact]
    public void A_closed_agent_takes_no_restart()
    {
        var agent = new IceLiteAgent(Local, Remote, tieBreaker: 1000);
        agent.Close();
        Assert.False(agent.Restart(Restarted));
        Assert.Same(Remote, agent.RemoteCredentials);
        Assert.Equal(0, agent.Restarts);
    }
}
