using CsCheck;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

public class RtpStreamRewriterDropTests
{
    private const uint Out = 0xCAFEBABE;
    private const uint Src = 7;

    private static ushort? Fwd(RtpStreamRewriter r, ushort seq, uint ssrc = Src)
    {
        var p = MakeRtp(ssrc, seq, (uint)seq * 3000);
        return r.TryRewrite(p, Ms(seq), out ushort outSeq) ? outSeq : null;
    }

    private static void Drop(RtpStreamRewriter r, ushort seq, uint ssrc = Src) => r.Drop(MakeRtp(ssrc, seq, (uint)seq * 3000));

    private static ushort MapBack(RtpStreamRewriter r, ushort outSeq)
    {
        Assert.True(r.TryMapToSource(outSeq, out uint ssrc, out ushort seq));
        Assert.Equal(Src, ssrc);
        return seq;
    }

    [Fact]
    public void DropInTheMiddle_LaterPacketsCloseTheGap()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 500);
        Assert.Equal((ushort)500, Fwd(r, 10));
        Assert.Equal((ushort)501, Fwd(r, 11));
        Drop(r, 12);
        Assert.Equal((ushort)502, Fwd(r, 13));
        Assert.Equal((ushort)503, Fwd(r, 14));
        Assert.Equal(1, r.ClosedGapCount);
        Assert.Equal((ushort)11, MapBack(r, 501));
        Assert.Equal((ushort)13, MapBack(r, 502));
        Assert.Equal((ushort)14, MapBack(r, 503));
    }

    [Fact]
    public void SeveralDropRuns_NumberingStaysContinuous()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 0);
        // T0 T2 T1 T2 frames of 2 packets each, forwarding T0 only: 2 forwarded, 6 dropped, repeated.
        var expected = new List<(ushort Src, ushort Out)>();
        ushort next = 0;
        for (ushort seq = 100; seq < 180; seq++)
        {
            if ((seq - 100) % 8 < 2) { Assert.Equal(next, Fwd(r, seq)); expected.Add((seq, next++)); }
            else Drop(r, seq);
        }
        Assert.Equal(60, r.ClosedGapCount);
        foreach (var (src, o) in expected) Assert.Equal(src, MapBack(r, o));
        Assert.False(r.TryMapToSource(next, out _, out _)); // not sent yet
    }

    [Fact]
    public void ReorderedPacketsAfterDrops_MapToTheirReservedSlots()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 1000);
        Assert.Equal((ushort)1000, Fwd(r, 10));
        // 11 and 12 are late; 13 is dropped; 14 arrives.
        Drop(r, 13);
        Assert.Equal((ushort)1003, Fwd(r, 14));
        Assert.Equal((ushort)1001, Fwd(r, 11)); // late, before the dropped run: its own slot
        Assert.Equal((ushort)1002, Fwd(r, 12));
        Assert.Null(Fwd(r, 13));                 // a late copy of a dropped packet is dropped too
        Assert.Equal((ushort)1003, Fwd(r, 14)); // duplicate maps to the same seq
        Drop(r, 15);
        Drop(r, 16);
        Assert.Equal((ushort)1004, Fwd(r, 17));
        Assert.Null(Fwd(r, 15));
        Assert.Null(Fwd(r, 16));
        Assert.Equal((ushort)12, MapBack(r, 1002));
        Assert.Equal((ushort)14, MapBack(r, 1003));
        Assert.Equal((ushort)17, MapBack(r, 1004));
    }

    [Fact]
    public void LateDrop_CannotMoveSentNumbers_ItsSlotStaysAndMapsBack()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 0);
        Fwd(r, 10);
        Assert.Equal((ushort)2, Fwd(r, 12)); // 11 missing
        Drop(r, 11);                          // decided after 12 went out: nothing to close
        Assert.Equal(0, r.ClosedGapCount);
        Assert.Equal((ushort)3, Fwd(r, 13));
        Assert.Equal((ushort)11, MapBack(r, 1)); // a NACK for the gap still finds the source packet
    }

    [Fact]
    public void DropsAcrossTheWrap()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 65530);
        ushort expected = 65530;
        var sent = new List<(ushort Src, ushort Out)>();
        for (int i = 0; i < 20; i++)
        {
            ushort seq = (ushort)(65525 + i); // crosses 65535 -> 0 at i = 11
            if (i % 3 == 1) { Drop(r, seq); continue; }
            Assert.Equal(expected, Fwd(r, seq));
            sent.Add((seq, expected));
            expected++;
        }
        Assert.Null(Fwd(r, 65526)); // dropped before the wrap
        foreach (var (src, o) in sent) Assert.Equal(src, MapBack(r, o));
    }

    [Fact]
    public void DropIgnoredForOtherSourcesAndBeforeTheFirstPacket()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 0, autoSwitch: false);
        r.SwitchSource(Src);
        Drop(r, 9); // nothing forwarded yet: the first forwarded packet starts the numbering anyway
        Assert.Equal((ushort)0, Fwd(r, 10));
        Drop(r, 11, ssrc: 99);   // another layer: its packets never take outgoing seqs
        r.Drop([0x80, 0x60]);    // too short: ignored
        Assert.Equal((ushort)1, Fwd(r, 11));
        Assert.Equal(0, r.ClosedGapCount);
    }

    /// <summary>Simulcast up and back down (S0 -> S1 -> S0, as on a link that improves and then degrades): the
    /// layer selector's explicit switch brings back a source forwarded before, which the rewriter's auto-switch alone
    /// refuses (late packets of an old layer). Before Subscription switched explicitly, every packet of the lower layer
    /// was refused after such a round trip and the receiver froze.</summary>
    [Fact]
    public void ExplicitSwitchBackToAnEarlierSourceForwardsItWhileAutoSwitchRefusesIt()
    {
        const uint S0 = 1000, S1 = 2000;
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 0);
        Assert.Equal((ushort)0, Fwd(r, 100, ssrc: S0));
        r.SwitchSource(S1);
        Assert.Equal((ushort)1, Fwd(r, 40000, ssrc: S1));
        Assert.Null(Fwd(r, 101, ssrc: S0)); // a late packet of the old layer: refused
        r.SwitchSource(S0);                // the selector goes back down at S0's key frame
        Assert.Equal((ushort)2, Fwd(r, 150, ssrc: S0));
        Assert.Equal((ushort)3, Fwd(r, 151, ssrc: S0));
        Assert.Null(Fwd(r, 40001, ssrc: S1)); // and now S1's late packets are the old ones
    }

    [Fact]
    public void DropsThenSourceSwitch_NewSourceContinuesAndOldMapsBack()
    {
        var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 0, autoSwitch: false);
        r.SwitchSource(Src);
        Fwd(r, 10);
        Drop(r, 11);
        Assert.Equal((ushort)1, Fwd(r, 12));
        Drop(r, 13); // a pending run that never forwards
        r.SwitchSource(8);
        Assert.Equal((ushort)2, Fwd(r, 5000, ssrc: 8));
        Assert.True(r.TryMapToSource(2, out uint ssrc, out ushort seq));
        Assert.Equal((8u, (ushort)5000), (ssrc, seq));
        Assert.Equal((ushort)12, MapBack(r, 1));
        Assert.Equal((ushort)10, MapBack(r, 0));
    }

    [Fact]
    public void TryRewriteAndDrop_AllocateNothing()
    {
        var r = new RtpStreamRewriter(Out, 90000);
        var p = MakeRtp(Src, 0, 0);
        void Run(int from, int to)
        {
            for (int i = from; i < to; i++)
            {
                TeleRehab.Media.Rtp.RtpPacketRewriter.SetSsrc(p, Src);
                TeleRehab.Media.Rtp.RtpPacketRewriter.SetSequenceNumber(p, (ushort)i);
                if (i % 4 == 1) r.Drop(p);
                else r.TryRewrite(p, Ms(i), out _);
                if (i % 16 == 0) r.TryMapToSource((ushort)(i / 2), out _, out _);
            }
        }
        Run(0, 1000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1000, 5000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    // Reference model: extended source seqs, a sorted set of drops that closed a gap (those newer than everything
    // handled when dropped), out = first out + (src - base) - closed drops in [base, src).
    private sealed class Model(ushort initialOut)
    {
        private readonly SortedSet<int> _closed = [];
        private int? _base;
        private int _highest;

        public void Drop(int src)
        {
            if (_base is null || src <= _highest) return;
            _closed.Add(src);
            _highest = src;
        }

        public ushort? Forward(int src)
        {
            if (_base is null) { _base = src; _highest = src; return initialOut; }
            if (src < _base || _closed.Contains(src)) return null;
            _highest = Math.Max(_highest, src);
            return (ushort)(initialOut + (src - _base.Value) - _closed.GetViewBetween(_base.Value, src).Count);
        }
    }

    // Events: each offset forwarded or dropped; neighbours swapped (reordering) and some repeated (retransmissions).
    private static readonly Gen<(ushort Start, ushort InitialOut, (int Offset, bool Drop)[] Events)> Events =
        Gen.Select(Gen.UShort, Gen.UShort, Gen.Int[0, 3].Array[10, 250], Gen.Int[0, 300].Array[0, 30]).Select((start, initial, kinds, swaps) =>
        {
            var events = new List<(int, bool)>();
            for (int i = 0; i < kinds.Length; i++)
            {
                events.Add((i, kinds[i] == 0));
                if (kinds[i] == 3 && i % 5 == 0) events.Add((i, false)); // repeated (forward attempt)
            }
            foreach (int s in swaps)
                if (s + 1 < events.Count) (events[s], events[s + 1]) = (events[s + 1], events[s]);
            return (start, initial, events.ToArray());
        });

    [Fact]
    public void MatchesReferenceModelAndMapsEveryForwardedSeqBack()
    {
        Events.Sample((start, initial, events) =>
        {
            var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: initial);
            var model = new Model(initial);
            var sent = new Dictionary<ushort, int>();
            foreach (var (offset, drop) in events)
            {
                ushort seq = (ushort)(start + offset);
                if (drop)
                {
                    r.Drop(MakeRtp(Src, seq, 0));
                    model.Drop(offset);
                    continue;
                }
                var p = MakeRtp(Src, seq, 0);
                ushort? expected = model.Forward(offset);
                ushort? got = r.TryRewrite(p, Ms(0), out ushort o) ? o : null;
                Assert.Equal(expected, got);
                if (got is { } g)
                {
                    if (sent.TryGetValue(g, out int prev)) Assert.Equal(prev, offset); // one source packet per outgoing seq
                    sent[g] = offset;
                }
            }
            foreach (var (o, offset) in sent)
            {
                Assert.True(r.TryMapToSource(o, out uint ssrc, out ushort s));
                Assert.Equal((Src, (ushort)(start + offset)), (ssrc, s));
            }
        });
    }

    [Fact]
    public void InOrderWithDrops_OutgoingSeqsHaveNoGaps()
    {
        Gen.Select(Gen.UShort, Gen.Bool.Array[1, 400]).Sample((start, drops) =>
        {
            var r = new RtpStreamRewriter(Out, 90000, initialSequenceNumber: 100);
            ushort next = 100;
            Assert.NotNull(Fwd(r, start)); // the first packet starts the numbering
            next++;
            for (int i = 0; i < drops.Length; i++)
            {
                ushort seq = (ushort)(start + 1 + i);
                if (drops[i]) { Drop(r, seq); continue; }
                Assert.Equal(next, Fwd(r, seq));
                Assert.Equal(seq, MapBack(r, next));
                next++;
            }
        });
    }
}
