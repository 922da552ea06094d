// Connection echo test: sends the camera and microphone to POST /api/echo and shows what comes back.
// Standard WebRTC APIs only. window.echoTest exposes the figures for automated tests.
const $ = (id) => document.getElementById(id);
const status = { state: 'idle', dtlsState: null, framesDecoded: 0, audioPacketsReceived: 0,
  remoteFingerprint: null, answerFingerprint: null, candidateType: null, protocol: null, rttMs: null, error: null };
window.echoTest = status;

let pc = null;
let stream = null;
let timer = null;

function show() {
  $('state').textContent = status.state;
  $('dtls').textContent = status.dtlsState ?? '-';
  $('path').textContent = status.protocol ? `${status.protocol} (${status.candidateType})` : '-';
  $('frames').textContent = String(status.framesDecoded);
  $('audio').textContent = String(status.audioPacketsReceived);
  $('rtt').textContent = status.rttMs == null ? '-' : `${status.rttMs.toFixed(0)} ms`;
  $('error').textContent = status.error ?? '';
}

function fingerprintOf(sdp) {
  const match = /^a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/m.exec(sdp);
  return match ? match[1].toUpperCase() : null;
}

async function poll() {
  if (!pc) return;
  const stats = await pc.getStats();
  for (const report of stats.values()) {
    if (report.type === 'inbound-rtp' && report.kind === 'video') status.framesDecoded = report.framesDecoded ?? 0;
    if (report.type === 'inbound-rtp' && report.kind === 'audio') status.audioPacketsReceived = report.packetsReceived ?? 0;
    if (report.type === 'transport') {
      status.dtlsState = report.dtlsState;
      const remoteCert = report.remoteCertificateId && stats.get(report.remoteCertificateId);
      if (remoteCert) status.remoteFingerprint = remoteCert.fingerprint.toUpperCase();
      const pair = report.selectedCandidatePairId && stats.get(report.selectedCandidatePairId);
      if (pair) {
        const remote = stats.get(pair.remoteCandidateId);
        if (remote) { status.protocol = remote.protocol; status.candidateType = remote.candidateType; }
        if (pair.currentRoundTripTime != null) status.rttMs = pair.currentRoundTripTime * 1000;
      }
    }
  }
  show();
}

async function start() {
  $('start').disabled = true;
  status.error = null;
  try {
    status.state = 'starting camera';
    show();
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    $('local').srcObject = stream;
    pc = new RTCPeerConnection();
    const remote = new MediaStream();
    $('remote').srcObject = remote;
    pc.ontrack = (event) => remote.addTrack(event.track);
    pc.onconnectionstatechange = () => { status.state = pc.connectionState; show(); };
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    status.state = 'negotiating';
    show();
    // The server is ICE-lite: it needs none of our candidates, so the offer goes at once (one round trip).
    const transport = $('transport').value;
    const response = await fetch(`/api/echo?transport=${encodeURIComponent(transport)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`server refused the test (${response.status}): ${body}`);
    status.answerFingerprint = fingerprintOf(body);
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    timer = setInterval(poll, 500);
    $('stop').disabled = false;
  } catch (error) {
    status.error = String(error.message ?? error);
    status.state = 'failed';
    show();
    stop();
  }
}

function stop() {
  clearInterval(timer);
  pc?.close();
  pc = null;
  stream?.getTracks().forEach((track) => track.stop());
  stream = null;
  $('start').disabled = false;
  $('stop').disabled = true;
  if (status.state !== 'failed') status.state = 'stopped';
  show();
}

$('start').addEventListener('click', start);
$('stop').addEventListener('click', stop);
const params = new URLSearchParams(location.search);
if (params.has('transport')) $('transport').value = params.get('transport');
if (params.has('autostart')) start();
show();
