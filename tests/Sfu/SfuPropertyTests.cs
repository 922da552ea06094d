using CsCheck;
using TeleRehab.Media.Sfu;
using static TeleRehab.Media.Tests.Sfu.SfuPackets;

namespace TeleRehab.Media.Tests.Sfu;

/// <summary>Randomized checks of the SFU building blocks against simple models.</summary>
public class SfuPropertyTests
{
    // Arrival orders: a run of seqs from a random start (crossing the wrap often), some lost, some swapped
    // with a neighbour, some duplicated.
    private static readonly Gen<(ushort Start, int[] Offsets)> Arrivals =
        Gen.Select(Gen.UShort, Gen.Int[0, 2].Array[20, 300], Gen.Int[0, 299].Array[0, 20]).Select((start, kinds, swaps) =>
        {
            var offsets = new List<int>();
            for (int i = 0; i < kinds.Length; i++)
            {
                if (kinds[i] == 0 && i > 0 && i < kinds.Length - 1) continue; // lost (never the first or last)
                offsets.Add(i);
                if (kinds[i] == 2 && i % 7 == 0) offsets.Add(i); // duplicate
            }
            foreach (int s in swaps)
                if (s + 1 < offsets.Count) (offsets[s], offsets[s + 1]) = (offsets[s + 1], offsets[s]);
            return (start, offsets.ToArray());
        });

    [Fact]
    public void NackGeneratorNeverNacksAReceivedPacketAndTracksEveryRecentGap()
    {
        Arrivals.Sample((start, offsets) =>
        {
            var g = new NackGenerator(maxMissing: 1000, maxAge: TimeSpan.FromHours(1));
            var received = new HashSet<int>();
            var buffer = new ushort[1000];
            int highest = offsets[0];
            var now = TimeSpan.Zero;
            foreach (int o in offsets)
            {
                now += Ms(1);
                g.OnPacketReceived((ushort)(start + o), now);
                received.Add(o);
                if (o > highest) highest = o;
                int n = g.CollectNacks(now, buffer);
                foreach (ushort seq in buffer[..n]) Assert.DoesNotContain((ushort)(seq - start), received.Select(r => (ushort)r));
            }
            // Everything between the first packet and the highest that never arrived is still tracked.
            int expectedMissing = Enumerable.Range(offsets[0], highest - offsets[0] + 1).Count(o => !received.Contains(o));
            Assert.Equal(expectedMissing, g.MissingCount);
        });
    }

    [Fact]
    public void RetransmissionBufferReturnsExactlyTheRecentPackets()
    {
        Arrivals.Sample((start, offsets) =>
        {
            var b = new RetransmissionBuffer(capacity: 64);
            var stored = new Dictionary<int, byte[]>();
            var slotOwner = new Dictionary<int, int>(); // ring slot -> offset last stored there
            int highest = int.MinValue;
            foreach (int o in offsets)
            {
                var p = MakeRtp(9, (ushort)(start + o), (uint)o, payloadLength: o % 50);
                bool accepted = b.Store(p, Ms(0));
                highest = Math.Max(highest, o);
                Assert.Equal(o > highest - 64, accepted);
                if (accepted)
                {
                    stored[o] = p;
                    slotOwner[o & 63] = o;
                }
            }
            for (int o = highest - 100; o <= highest; o++)
            {
                // Held unless a newer packet took its slot (an old one whose successor was lost is still there).
                bool expected = stored.ContainsKey(o) && slotOwner[o & 63] == o;
                Assert.Equal(expected, b.TryGet((ushort)(start + o), Ms(1), out var got));
                if (expected) Assert.Equal(stored[o], got.ToArray());
            }
        });
    }

    [Fact]
    public void RewriterPreservesRelativeOrderAndMapsBack()
    {
        Arrivals.Sample((start, offsets) =>
        {
            var r = new RtpStreamRewriter(5, 90000, initialSequenceNumber: 60000);
            var outBySource = new Dictionary<int, ushort>();
            foreach (int o in offsets)
            {
                var p = MakeRtp(1, (ushort)(start + o), (uint)(3000 * o));
                bool ok = r.TryRewrite(p, Ms(o), out ushort outSeq);
                if (o < offsets[0]) { Assert.False(ok); continue; } // before the first packet
                Assert.True(ok);
                Assert.Equal((ushort)(60000 + o - offsets[0]), outSeq);
                Assert.Equal((uint)(3000 * (o - offsets[0])), Ts(p));
                outBySource[o] = outSeq;
            }
            foreach (var (o, outSeq) in outBySource)
            {
                Assert.True(r.TryMapToSource(outSeq, out uint ssrc, out ushort seq));
                Assert.Equal((1u, (ushort)(start + o)), (ssrc, seq));
            }
        });
    }
}
