// The pieces of an ONNX graph built in code with onnx-proto (the trained baseline, the bench's
// synthetic models).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

/** An initializer: float or int64 values of a shape. */
export function tensor(name: string, dataType: number, dims: number[], values: number[]) {
  return onnx.TensorProto.create(
    dataType === FLOAT
      ? { name, dataType, dims, floatData: values }
      : { name, dataType, dims, int64Data: values },
  );
}

/** A node of `opType` with INT attributes. */
export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, number> = {},
) {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name: outputs[0],
    attribute: Object.entries(attributes).map(([name, i]) =>
      onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }),
    ),
  });
}

/** A float tensor's type and shape; a string dimension is symbolic (the batch). */
export function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}
