using System.Text;
using Microsoft.Playwright;

namespace TeleRehab.Media.Tests.Support;

/// <summary>A fake camera clip that shows a real person: a photo from a Debian package (opencv-doc's
/// messi5.jpg: a footballer, whole body, in a match), decoded by Chromium and written as a YUV4MPEG2 clip for
/// <c>--use-file-for-fake-video-capture</c>. scripts/install-test-deps.sh installs the package.</summary>
public static class PersonVideo
{
    public const string PicturePath = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

    /// <summary>Writes the clip into <paramref name="directory"/> and returns its path.</summary>
    public static async Task<string> CreateY4mAsync(string directory, int frames = 10, int fps = 10)
    {
        if (!File.Exists(PicturePath))
            throw new InvalidOperationException($"{PicturePath} is missing: run scripts/install-test-deps.sh (package opencv-doc).");
        var (width, height, rgba) = await DecodeAsync(PicturePath);
        var path = Path.Combine(directory, "person.y4m");
        await using var file = File.Create(path);
        var frame = ToI420(rgba, width, height, out var w, out var h);
        await file.WriteAsync(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n"));
        var frameHeader = Encoding.ASCII.GetBytes("FRAME\n");
        for (var i = 0; i < frames; i++)
        {
            await file.WriteAsync(frameHeader);
            await file.WriteAsync(frame);
        }
        return path;
    }

    /// <summary>Decodes a JPEG or PNG to RGBA with Chromium's own decoder (no image library needed).</summary>
    private static async Task<(int Width, int Height, byte[] Rgba)> DecodeAsync(string picture)
    {
        var (playwright, browser) = await Chromium.LaunchAsync();
        try
        {
            var page = await browser.NewPageAsync();
            var mime = picture.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? "image/png" : "image/jpeg";
            var dataUrl = $"data:{mime};base64,{Convert.ToBase64String(await File.ReadAllBytesAsync(picture))}";
            var result = await page.EvaluateAsync<string[]>("""
                async (src) => {
                  const image = new Image();
                  image.src = src;
                  await image.decode();
                  const canvas = document.createElement('canvas');
                  canvas.width = image.naturalWidth;
                  canvas.height = image.naturalHeight;
                  const ctx = canvas.getContext('2d');
                  ctx.drawImage(image, 0, 0);
                  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
                  let binary = '';
                  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
                  return [String(canvas.width), String(canvas.height), btoa(binary)];
                }
                """, dataUrl);
            return (int.Parse(result[0]), int.Parse(result[1]), Convert.FromBase64String(result[2]));
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }

    /// <summary>RGBA to planar 4:2:0 (full-range BT.601, as "C420jpeg" declares), cropped to even dimensions.</summary>
    internal static byte[] ToI420(byte[] rgba, int width, int height, out int w, out int h)
    {
        w = width & ~1;
        h = height & ~1;
        var frame = new byte[w * h * 3 / 2];
        var uOffset = w * h;
        var vOffset = uOffset + w * h / 4;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var i = (y * width + x) * 4;
                double r = rgba[i], g = rgba[i + 1], b = rgba[i + 2];
                frame[y * w + x] = Clamp(0.299 * r + 0.587 * g + 0.114 * b);
                if ((x & 1) == 0 && (y & 1) == 0)
                {
                    var c = (y / 2) * (w / 2) + x / 2;
                    frame[uOffset + c] = Clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
                    frame[vOffset + c] = Clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
                }
            }
        }
        return frame;
    }

    private static byte Clamp(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
