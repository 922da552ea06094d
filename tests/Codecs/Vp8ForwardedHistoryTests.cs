using TeleRehab.Media.Codecs;
using static TeleRehab.Media.Tests.Codecs.Vp8RewriterTests;

namespace TeleRehab.Media.Tests.Codecs;

public class Vp8ForwardedHistoryTests
{
    private const uint A = 0xA, B = 0xB;

    private static (int Pic, byte Tl0, int KeyIdx) Read(byte[] p)
    {
        Assert.True(Vp8PayloadDescriptor.TryParse(p, out var d));
        return (d.PictureId, d.Tl0PicIdx, d.KeyIdx);
    }

    [Fact]
    public void A_packet_resent_after_a_layer_switch_carries_the_values_it_was_forwarded_with()
    {
        // Forward two pictures of layer A, switch to layer B, forward one; then the subscriber NACKs the first packet.
        var rewriter = new Vp8Rewriter(initialPictureId: 500, initialTl0PicIdx: 40, initialKeyIdx: 3);
        var history = new Vp8ForwardedHistory();
        ushort seq = 65530; // across the wrap
        foreach (var (ssrc, pic, tl0) in new[] { (A, 9000, (byte)7), (A, 9001, (byte)8), (B, 200, (byte)90) })
        {
            if (ssrc == B) rewriter.SwitchSource(B);
            var payload = Vp8(pic, tl0, tid: 0, keyIdx: 1);
            Assert.True(rewriter.TryRewrite(payload, ssrc));
            history.Record(seq++, payload);
        }

        // The live rewriter now maps only B: it refuses the old packet, which is why retransmissions use the history.
        var resent = Vp8(9000, 7, tid: 0, keyIdx: 1);
        Assert.False(rewriter.TryRewrite(Vp8(9000, 7, tid: 0, keyIdx: 1), A));
        Assert.True(history.TryApply(65530, resent));
        Assert.Equal((500, (byte)40, 3), Read(resent));

        var second = Vp8(9001, 8, tid: 0, keyIdx: 1);
        Assert.True(history.TryApply(65531, second));
        Assert.Equal((501, (byte)41, 3), Read(second));
    }

    [Fact]
    public void A_packet_no_longer_remembered_or_with_another_shape_is_refused_and_left_untouched()
    {
        var history = new Vp8ForwardedHistory();
        history.Record(10, Vp8(300, 5, tid: 0));
        Assert.False(history.TryApply(11, Vp8(300, 5, tid: 0)));                   // never recorded
        history.Record(10 + Vp8ForwardedHistory.Capacity, Vp8(301, 5, tid: 0));     // the slot reused
        var old = Vp8(300, 5, tid: 0);
        Assert.False(history.TryApply(10, old));
        Assert.Equal((300, (byte)5, 0), Read(old));

        var shortId = Vp8(44, 5, tid: 0, longId: false);
        history.Record(20, Vp8(300, 5, tid: 0, keyIdx: 2));                          // forwarded with a KEYIDX
        Assert.False(history.TryApply(20, shortId));                                 // this one has none
        Assert.False(history.TryApply(21, [0x90]));                                  // malformed
        history.Record(22, [0x90]);                                                  // a malformed record forgets the slot
        Assert.False(history.TryApply(22, Vp8(1, 1, tid: 0)));
    }
}
