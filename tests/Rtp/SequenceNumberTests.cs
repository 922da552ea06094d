using CsCheck;
using TeleRehab.Media.Rtp;

namespace TeleRehab.Media.Tests.Rtp;

public class SequenceNumberTests
{
    [Fact]
    public void Unwraps_across_65535_to_0_with_reordering()
    {
        var u = new SequenceNumberUnwrapper();
        ushort[] input = [65533, 65535, 0, 65534, 2, 1, 65535, 3];
        long[] expected = [65533, 65535, 65536, 65534, 65538, 65537, 65535, 65539];
        Assert.Equal(expected, input.Select(s => u.Unwrap(s)).ToArray());
        Assert.Equal(65539, u.Highest);
    }

    [Fact]
    public void Unwraps_many_cycles()
    {
        var u = new SequenceNumberUnwrapper();
        long last = 0;
        for (long i = 100; i < 5 * 65536; i += 1000) last = u.Unwrap((ushort)i);
        Assert.Equal(100 + 1000 * ((5 * 65536 - 100 - 1) / 1000), last);
    }

    [Fact]
    public void Unwrap_matches_true_value_for_bounded_reordering()
    {
        // A monotone stream with jumps < 2^15, delivered with local swaps, unwraps to the original numbers.
        Gen.Select(Gen.Long[0, 1L << 40], Gen.Int[1, 3000].Array[2, 200], Gen.Int[0, 200].Array[0, 20])
            .Sample((start, steps, swaps) =>
        {
            var values = new long[steps.Length];
            values[0] = start;
            for (int i = 1; i < steps.Length; i++) values[i] = values[i - 1] + steps[i];
            foreach (var s in swaps)
            {
                int i = 1 + s % (values.Length - 1);
                if (values[i] - values[i - 1] < 10000 && (i < 2 || values[i] - values[i - 2] < 30000))
                    (values[i], values[i - 1]) = (values[i - 1], values[i]);
            }
            var u = new SequenceNumberUnwrapper();
            long offset = values[0] - (ushort)values[0];
            foreach (var v in values) Assert.Equal(v - offset, u.Unwrap((ushort)v));
        });
    }

    [Fact]
    public void Newer_and_delta_use_serial_arithmetic()
    {
        Assert.True(SequenceNumber.IsNewer(0, 65535));
        Assert.False(SequenceNumber.IsNewer(65535, 0));
        Assert.False(SequenceNumber.IsNewer(5, 5));
        Assert.Equal(2, SequenceNumber.Delta(65535, 1));
        Assert.Equal(-2, SequenceNumber.Delta(1, 65535));
    }

    [Fact]
    public void Timestamp_unwraps_across_2_pow_32()
    {
        var u = new TimestampUnwrapper();
        Assert.Equal(0xFFFFFF00L, u.Unwrap(0xFFFFFF00));
        Assert.Equal(0x1_0000_0100L, u.Unwrap(0x100));
        Assert.Equal(0xFFFFFFF0L, u.Unwrap(0xFFFFFFF0)); // reordered: stays in the previous cycle
        Assert.Equal(0x1_0000_1000L, u.Unwrap(0x1000));
        Assert.Equal(0x1_0000_1000L, u.Highest);
        Assert.Equal(0x1_0000_0000L, u.Peek(0));
    }
}
