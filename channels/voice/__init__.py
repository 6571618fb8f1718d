"""Twilio Voice: the 188-style postal-code IVR, the queue with callbacks and voicemail, the softphone."""
