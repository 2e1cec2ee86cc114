namespace Atr.Bench.Measurement;

/// <summary>How busy one CPU was over a window: 1.0 is saturated.</summary>
internal sealed record CpuBusy(int Cpu, double Busy);
