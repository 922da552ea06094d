using CsCheck;
using TeleRehab.LoadTests;
using TeleRehab.Media.Dtls;
using TeleRehab.Media.Sdp;
using TeleRehab.Media.Tests.Support;
using TeleRehab.Media.WebRtc;

namespace TeleRehab.Media.Tests.RoomClient;

/// <summary>The room client's parts without a server: renegotiation offers and the synthetic payload format.</summary>
public sealed class ClientPartsTests : IDisposable
{
    private static readonly Lazy<DtlsCertificate> Certificate = new(() => DtlsCertificate.Generate());
    private readonly ClientWorker _worker = new();

    public void Dispose() => _worker.Dispose();

    [Fact]
    public async Task Renegotiation_offers_keep_credentials_and_m_line_order_and_mark_unused_sections_inactive()
    {
        await using var client = new WebRtcClient(_worker.Worker, Certificate.Value, new WebRtcClientOptions { Codecs = [SdpCodecCapability.Opus, SdpCodecCapability.Vp8] });
        Assert.True(SessionDescription.TryParse(client.Offer, out var first, out _));
        var ufrag = first!.Media[0].IceUfrag ?? first.IceUfrag;

        var sdp = client.CreateOffer([new ReceiveSection("audio", "r0"), new ReceiveSection("video", "r1")]);
        Assert.True(SessionDescription.TryParse(sdp, out var offer, out var error), error);
        Assert.Equal(["0", "1", "r0", "r1"], offer!.Media.Select(m => m.Mid));
        Assert.Equal(ufrag, offer.Media[0].IceUfrag ?? offer.IceUfrag);
        Assert.Equal(SdpDirection.SendOnly, offer.GetDirection(offer.Media[0]));
        Assert.Equal(SdpDirection.RecvOnly, offer.GetDirection(offer.Media[2]));
        Assert.Equal(["0", "1", "r0", "r1"], offer.BundleMids);

        // A later offer: r0 unused (inactive, kept in place), a new section appended.
        sdp = client.CreateOffer([new ReceiveSection("audio", "r0", Active: false), new ReceiveSection("video", "r1"), new ReceiveSection("audio", "r2")]);
        Assert.True(SessionDescription.TryParse(sdp, out offer, out _));
        Assert.Equal(["0", "1", "r0", "r1", "r2"], offer!.Media.Select(m => m.Mid));
        Assert.Equal(SdpDirection.Inactive, offer.GetDirection(offer.Media[2]));
    }

    [Fact]
    public async Task Renegotiation_offers_refuse_reordered_removed_or_clashing_sections()
    {
        await using var client = new WebRtcClient(_worker.Worker, Certificate.Value, new WebRtcClientOptions { Codecs = [SdpCodecCapability.Opus, SdpCodecCapability.Vp8] });
        Assert.Throws<ArgumentException>(() => client.CreateOffer([new ReceiveSection("audio", "0")])); // one of its own mids
        Assert.Throws<ArgumentException>(() => client.CreateOffer([new ReceiveSection("audio", "a"), new ReceiveSection("video", "a")]));
        // Until an answer is applied, nothing is fixed; after it, the sections keep their order.
        Assert.False(client.TryApplyAnswer("v=0\r\n", out var error));
        Assert.NotNull(error);
        Assert.Empty(client.ReceiveSections);
    }

    [Fact]
    public async Task Observer_client_offers_only_receive_sections()
    {
        await using var client = new WebRtcClient(_worker.Worker, Certificate.Value, new WebRtcClientOptions { Audio = false, Video = false });
        Assert.Empty(client.SendMids);
        var sdp = client.CreateOffer([new ReceiveSection("video", "r0")]);
        Assert.True(SessionDescription.TryParse(sdp, out var offer, out _));
        var only = Assert.Single(offer!.Media);
        Assert.Equal(SdpDirection.RecvOnly, offer.GetDirection(only));
    }

    [Fact]
    public void Synthetic_payloads_read_back_and_any_changed_byte_is_detected()
    {
        Gen.Select(Gen.String[Gen.Char['a', 'z'], 1, 20], Gen.Bool, Gen.UInt, Gen.Int[0, 1200], Gen.Int[0, 2000]).Sample((id, video, seq, length, flip) =>
        {
            var buffer = new byte[2000];
            var written = SyntheticPayload.Write(buffer, id, video, keyframe: false, seq, length);
            Span<char> name = stackalloc char[80];
            Assert.True(SyntheticPayload.TryRead(buffer.AsSpan(0, written), name, out var nameLength, out var readVideo, out var readSeq, out var intact));
            Assert.True(intact);
            Assert.Equal(id, new string(name[..nameLength]));
            Assert.Equal(video, readVideo);
            Assert.Equal(seq, readSeq);

            var at = flip % written;
            buffer[at] ^= 0x40;
            if (SyntheticPayload.TryRead(buffer.AsSpan(0, written), name, out nameLength, out _, out readSeq, out intact))
                Assert.False(intact && readSeq == seq && new string(name[..nameLength]) == id, $"a flipped byte at {at} went unnoticed");
        });
    }

    [Fact]
    public void Random_bytes_never_throw_and_are_not_taken_for_synthetic_payloads()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            Span<char> name = stackalloc char[80];
            // Without the tag's magic, nothing is read as a synthetic payload (and nothing throws).
            if (bytes.AsSpan().IndexOf("TRH1 "u8) < 0) Assert.False(SyntheticPayload.TryRead(bytes, name, out _, out _, out _, out _));
        });
    }
}
