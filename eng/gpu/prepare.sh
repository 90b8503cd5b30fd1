#!/usr/bin/env bash
# Run HERE (a machine with the .NET SDK): publishes eng/gpu/Distill.GpuCheck as one self-contained linux-x64 file
# into .gpu/ (ignored by git) with the fixtures it reads, for eng/gpu/run.sh on the GPU machine, which has no SDK.
# The native shim is not shipped: run.sh builds it there against that machine's libtorch.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .gpu
dotnet publish eng/gpu/Distill.GpuCheck/Distill.GpuCheck.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none -p:GenerateDocumentationFile=false \
  -o .gpu -nologo -v quiet -clp:ErrorsOnly
rm -f .gpu/libdistill_torch.so .gpu/*.xml
limit=$((60 * 1024 * 1024))
size=$(du -sb .gpu | cut -f1)
echo "prepare: .gpu holds $(du -sh .gpu | cut -f1) ($size bytes):"
ls -la .gpu .gpu/Fixtures
if [ "$size" -ge "$limit" ]; then
  echo "prepare: .gpu is over 60 MiB; it must travel with the working tree (64 MiB in all)" >&2
  exit 1
fi
echo "prepare: ready; on the GPU machine run: bash eng/gpu/run.sh   (carry .gpu)"
