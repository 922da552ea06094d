using CsCheck;
using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Tests.Sctp;

public class SctpCrc32cTests
{
    // RFC 3720 §B.4 lists each CRC as the bytes sent on the wire, least significant first
    // (for example "aa 36 91 8a" for 32 zero bytes), so the CRC values are these.
    [Theory]
    [InlineData("zeros", 0x8A9136AAu)]
    [InlineData("ones", 0x62A8AB43u)]
    [InlineData("incrementing", 0x46DD794Eu)]
    [InlineData("decrementing", 0x113FDB5Cu)]
    public void Rfc3720_vectors(string pattern, uint expected)
    {
        var data = new byte[32];
        for (int i = 0; i < 32; i++)
            data[i] = pattern switch
            {
                "zeros" => 0,
                "ones" => 0xFF,
                "incrementing" => (byte)i,
                _ => (byte)(31 - i),
            };
        Assert.Equal(expected, Crc32c.Compute(data));
        Assert.Equal(expected, ~Crc32c.UpdateSoftware(0xFFFFFFFFu, data));
    }

    [Fact]
    public void Castagnoli_check_value()
    {
        // The catalogued check value of CRC-32C for the ASCII string "123456789".
        Assert.Equal(0xE3069283u, Crc32c.Compute("123456789"u8));
        Assert.Equal(0u, Crc32c.Compute(ReadOnlySpan<byte>.Empty));
    }

    [Fact]
    public void Every_hardware_path_this_machine_has_matches_the_table()
    {
        Gen.Byte.Array[0, 100].Sample(data =>
        {
            uint expected = Crc32c.UpdateSoftware(0xFFFFFFFFu, data);
            if (System.Runtime.Intrinsics.X86.Sse42.IsSupported) Assert.Equal(expected, Crc32c.UpdateSse42(0xFFFFFFFFu, data));
            if (System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported) Assert.Equal(expected, Crc32c.UpdateSse42X64(0xFFFFFFFFu, data));
            if (System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported) Assert.Equal(expected, Crc32c.UpdateArm64(0xFFFFFFFFu, data));
        }, iter: 1000);
    }

    [Fact]
    public void Hardware_and_software_paths_agree()
    {
        Gen.Byte.Array[0, 200].Select(Gen.Int[0, 200]).Sample((data, split) =>
        {
            uint software = ~Crc32c.UpdateSoftware(0xFFFFFFFFu, data);
            Assert.Equal(software, Crc32c.Compute(data));
            // Incremental updates give the same result at any split point.
            int cut = Math.Min(split, data.Length);
            uint state = Crc32c.Update(0xFFFFFFFFu, data.AsSpan(0, cut));
            Assert.Equal(software, ~Crc32c.Update(state, data.AsSpan(cut)));
        }, iter: 2000);
    }
}
