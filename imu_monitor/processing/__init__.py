"""Signal processing: everything between sample chunks and monitor events.

Data quality, orientation (vqf), frame conventions, stillness, calibration, joining sensors in
time, segment and lumbar angles, the rep signal, the monitor (alarms, reps, tempo), ring
buffers, the streaming pipeline and the batch analysis of a recording. Each stage is a function
over arrays plus a small class that carries state between chunks.

Imports only the core types (``imu_monitor.model``, ``events``, ``exercises``, ``errors``,
``settings``), numpy, scipy and vqf: no bleak, no Qt, no file formats.
"""
