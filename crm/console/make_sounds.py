"""Write the softphone's WAV tones into crm/console/static/sounds/ (run once; the files are committed).

``python -m crm.console.make_sounds``: 8 kHz mono 16-bit tones replacing every sound the Twilio Voice
SDK would otherwise fetch from sdk.twilio.com (ring, ringback, hang-up, DTMF 0-9 * #).
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

OUT = Path(__file__).parent / "static" / "sounds"
RATE = 8000
DTMF = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "4": (770, 1209), "5": (770, 1336),
    "6": (770, 1477), "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "s": (941, 1209),
    "0": (941, 1336), "h": (941, 1477),
}  # fmt: skip
Segment = tuple[tuple[int, ...], float]  # frequencies (none: silence), seconds


def write_tone(path: Path, segments: list[Segment]) -> None:
    """One WAV file of ``segments`` played in turn."""
    frames = bytearray()
    for freqs, seconds in segments:
        for i in range(int(RATE * seconds)):
            value = sum(math.sin(2 * math.pi * f * i / RATE) for f in freqs) / len(freqs) if freqs else 0.0
            frames += struct.pack("<h", int(value * 0.3 * 32767))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


def main() -> None:
    """Write all 15 tones."""
    OUT.mkdir(parents=True, exist_ok=True)
    write_tone(OUT / "incoming.wav", [((400, 450), 0.4), ((), 0.2), ((400, 450), 0.4), ((), 1.0)])
    write_tone(OUT / "outgoing.wav", [((400,), 1.0), ((), 2.0)])  # Japanese ringback: 400 Hz, 1 s on 2 s off
    write_tone(OUT / "disconnect.wav", [((480, 620), 0.25), ((), 0.25), ((480, 620), 0.25)])
    for key, freqs in DTMF.items():
        write_tone(OUT / f"dtmf{key}.wav", [(freqs, 0.12)])


if __name__ == "__main__":
    main()
