namespace TeleRehab.Media.Tests.Support;

/// <summary>Keypoints as the pose estimator would send them, for browser tests that must not depend on the estimator
/// (it would take most of a two-core machine from the media they measure).</summary>
public static class PoseReplay
{
    /// <summary>A script for <c>Page.EvaluateAsync</c>: sends <c>count</c> keypoint frames (a standing person raising an
    /// arm), one every 100 ms, through the page's pose sender; resolves with how many went out.</summary>
    public const string Script = """
        (count) => new Promise((resolve) => {
          let i = 0, sent = 0;
          const timer = setInterval(() => {
            const a = Math.PI * (0.1 + 0.8 * (0.5 - 0.5 * Math.cos(2 * Math.PI * i / 20)));
            const landmarks = Array.from({ length: 33 }, (_, k) => ({ x: 0.3 + k * 0.012, y: 0.1 + k * 0.025, z: 0, visibility: 0.95 }));
            landmarks[14] = { x: 0.42 - Math.sin(a) * 0.15, y: 0.3 + Math.cos(a) * 0.2, z: 0, visibility: 0.95 };
            landmarks[16] = { x: 0.42 - Math.sin(a) * 0.28, y: 0.3 + Math.cos(a) * 0.37, z: 0, visibility: 0.95 };
            if (window.telerehab.sendPose(landmarks) === 'sent') sent++;
            if (++i === count) { clearInterval(timer); resolve(sent); }
          }, 100);
        })
        """;
}
