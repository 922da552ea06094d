using TeleRehab.Media.Sctp;

namespace TeleRehab.Media.Tests.Sctp;

internal static class SctpTestHelpers
{
    /// <summary>Serializes a chunk and checks the length rules every writer must keep.</summary>
    public static byte[] Write<T>(T chunk) where T : ISctpChunkWriter, allows ref struct
    {
        int length = chunk.GetSerializedLength();
        Assert.Equal(0, length % 4);
        var buffer = new byte[length + 8];
        buffer.AsSpan().Fill(0xEE);
        Assert.Equal(length, chunk.WriteTo(buffer));
        Assert.True(buffer.AsSpan(length).IndexOfAnyExcept((byte)0xEE) < 0, "wrote past its serialized length");
        var bytes = buffer.AsSpan(0, length).ToArray();
        Assert.True(SctpChunk.TryRead(bytes, out var parsed, out int consumed));
        Assert.Equal(length, consumed);
        Assert.True(length - parsed.Length is >= 0 and <= 3, "padding must be 0-3 bytes");
        Assert.True(bytes.AsSpan(parsed.Length).IndexOfAnyExcept((byte)0) < 0, "padding must be zero");
        return bytes;
    }

    public static SctpChunk Chunk(byte[] bytes)
    {
        Assert.True(SctpChunk.TryRead(bytes, out var chunk, out _));
        return chunk;
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "").Replace("\n", "").Replace("\r", ""));
}
