using System.Text;

namespace TeleRehab.Media.Tests.Support;

/// <summary>A fake camera clip that no encoder can squeeze: 640x360 at 30 frames/s of a moving mosaic, so the simulcast
/// encodings need bitrates like those of a real, moving scene in a real room (Chromium's built-in
/// fake camera draws a flat picture that needs ~200 kbit/s at 640x360, which would hide layer choices). Written once per
/// test run as a YUV4MPEG2 clip for <c>--use-file-for-fake-video-capture</c> (Chromium loops it).</summary>
public static class BusyVideo
{
    public const int Width = 640, Height = 360, Fps = 30;

    public static string CreateY4m(string directory, int frames = 60)
    {
        var path = Path.Combine(directory, "busy.y4m");
        using var file = File.Create(path);
        file.Write(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F{Fps}:1 Ip A1:1 C420jpeg\n"));
        var random = new Random(7);
        // A mosaic of 8x8 tiles of random grey levels (detail an encoder must spend bits on), panned two pixels a frame
        // (motion everywhere), with a little fresh grain: about what a moving person in a furnished room costs.
        const int Tile = 8, Margin = 128;
        var tilesX = (Width + Margin) / Tile + 1;
        var tilesY = (Height + Margin) / Tile + 1;
        var tiles = new byte[tilesX * tilesY];
        for (var i = 0; i < tiles.Length; i++) tiles[i] = (byte)(48 + random.Next(160));
        var frame = new byte[Width * Height * 3 / 2];
        var header = Encoding.ASCII.GetBytes("FRAME\n");
        for (var f = 0; f < frames; f++)
        {
            var dx = (2 * f) % Margin;
            var dy = f % Margin;
            for (var y = 0; y < Height; y++)
            {
                for (var x = 0; x < Width; x++)
                    frame[y * Width + x] = (byte)(tiles[(y + dy) / Tile * tilesX + (x + dx) / Tile] + random.Next(-6, 7));
            }
            for (var i = Width * Height; i < frame.Length; i++) frame[i] = 128;
            file.Write(header);
            file.Write(frame);
        }
        return path;
    }
}
