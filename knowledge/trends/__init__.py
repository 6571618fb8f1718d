"""Consultation trends (相談の傾向): counts per week/month, spike detection, digests, anonymized exports.

``records`` reads the PII-free fields of the case records; ``stats`` and ``spikes`` are pure; ``digest``
and ``anonymized`` shape what leaves the center (small cells suppressed, k-anonymous attributes).
"""
