using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR;
using TeleRehab.LoadTests;
using Xunit.Abstractions;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The server takes an ICE restart (RFC 8445 §9: an offer with a new ice-ufrag and ice-pwd and the same DTLS
/// fingerprint and setup) on the participant's existing peer connection: the answer has new server credentials too
/// (RFC 8829 §5.3.1), nothing is replaced, DTLS and SRTP carry on, the tracks stay; bad restart credentials are refused
/// and change nothing.</summary>
[Collection(RoomClientCollection.Name)]
public sealed partial class IceRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private RoomTestKit _kit = null!;

    public async Task InitializeAsync() => _kit = await RoomTestKit.StartAsync(output);

    public async Task DisposeAsync() => await _kit.DisposeAsync();

    [GeneratedRegex(@"a=ice-ufrag:\S+")]
    private static partial Regex Ufrag();

    [GeneratedRegex(@"a=ice-pwd:\S+")]
    private static partial Regex Pwd();

    /// <summary>The client's next offer with other ICE credentials, as a browser makes it after restartIce().</summary>
    private static string Restarted(string offer, string ufrag, string pwd) =>
        Pwd().Replace(Ufrag().Replace(offer, $"a=ice-ufrag:{ufrag}"), $"a=ice-pwd:{pwd}");

    [Fact]
    public async Task An_offer_with_new_ice_credentials_restarts_ice_on_the_same_connection_and_media_carries_on()
    {
        var (_, therapist, patient) = await _kit.StartPairAsync("ice-restart");
        var tracksBefore = therapist.Tracks.Select(t => t.TrackId).Order().ToList();
        var trackEvents = therapist.Events.Count(e => e.Name == HubNames.TracksChanged);
        var media = patient.Media!;
        var firstUfrag = media.Session!.RemoteIceUfrag;
        var firstPwd = media.Session.RemoteIcePwd;
        var subscriptions = media.ReceiveSections
            .Select(s => new SubscriptionRequestDto(s.Mid, patient.Tracks.First(t => t.Kind == s.Kind).TrackId)).ToList();

        // Bad credentials in a restart offer: refused, nothing changes.
        var bad = await Assert.ThrowsAsync<HubException>(() => patient.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate,
            new NegotiateRequestDto(Restarted(media.CreateOffer(media.ReceiveSections), "ab", "short"), subscriptions)));
        Assert.Contains("invalid:", bad.Message);
        Assert.Equal(2, _kit.Host.Media.UfragCount);

        var answer = await patient.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate,
            new NegotiateRequestDto(Restarted(media.CreateOffer(media.ReceiveSections), "rstrt1", "restartedpassword0123456"), subscriptions));
        Assert.StartsWith("v=0", answer.Sdp);
        // The answer to a restart has the server's new credentials; both ufrags find the peer until the client checks
        // with the new ones (this client never does: see below).
        var newUfrag = Ufrag().Match(answer.Sdp).Value["a=ice-ufrag:".Length..];
        var newPwd = Pwd().Match(answer.Sdp).Value["a=ice-pwd:".Length..];
        Assert.NotEqual(firstUfrag, newUfrag);
        Assert.NotEqual(firstPwd, newPwd);
        Assert.True(newUfrag.Length >= 4 && newPwd.Length >= 22);
        var peer = _kit.Host.Media.FindPeer(newUfrag);
        Assert.NotNull(peer);
        Assert.Same(peer, _kit.Host.Media.FindPeer(firstUfrag));
        Assert.Equal(3, _kit.Host.Media.UfragCount);

        // The same peer connection: nothing replaced, the tracks stay, media keeps flowing both ways on DTLS and SRTP
        // as they were (this client's own checks still carry the old credentials, which the server answers until a
        // check with the new ones comes; it keeps the selected path until a check with them nominates another).
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "after the ICE restart offer");
        await RoomTestKit.AssertKeepsReceivingAsync(patient, therapist.ParticipantId, "after the ICE restart offer");
        Assert.Equal(2, _kit.Host.Media.PeerCount);
        Assert.Equal(trackEvents, therapist.Events.Count(e => e.Name == HubNames.TracksChanged));
        Assert.Equal(tracksBefore, therapist.Tracks.Select(t => t.TrackId).Order().ToList());
        Assert.All(therapist.Received.Concat(patient.Received), s => Assert.Equal(0, s.Damaged));
        Assert.Empty(patient.Errors);
        Assert.Same(peer, _kit.Host.Media.FindPeer(firstUfrag));

        // A renegotiation that does not restart ICE keeps the server's credentials of the last restart (JSEP, RFC 8829
        // §5.3.1); a second restart whose answer was never used replaces that one, not the pair in use.
        var again = await patient.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate,
            new NegotiateRequestDto(Restarted(media.CreateOffer(media.ReceiveSections), "rstrt1", "restartedpassword0123456"), subscriptions));
        Assert.Contains($"a=ice-ufrag:{newUfrag}", again.Sdp);
        var second = await patient.InvokeAsync<NegotiateResultDto>(HubNames.Negotiate,
            new NegotiateRequestDto(Restarted(media.CreateOffer(media.ReceiveSections), "rstrt2", "restartedpassword0123457"), subscriptions));
        var secondUfrag = Ufrag().Match(second.Sdp).Value["a=ice-ufrag:".Length..];
        Assert.NotEqual(newUfrag, secondUfrag);
        Assert.NotEqual(firstUfrag, secondUfrag);
        Assert.Null(_kit.Host.Media.FindPeer(newUfrag));
        Assert.Same(peer, _kit.Host.Media.FindPeer(firstUfrag));
        Assert.Same(peer, _kit.Host.Media.FindPeer(secondUfrag));
        Assert.Equal(3, _kit.Host.Media.UfragCount);
        await RoomTestKit.AssertKeepsReceivingAsync(therapist, patient.ParticipantId, "after a second ICE restart offer");
    }
}
