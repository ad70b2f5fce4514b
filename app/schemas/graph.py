"""What GET /api/sessions/{id}/graph answers: one neuron's computation graph for one example
of the last step (engine/graph.py). The worker encodes it (app/worker/graph.py); this documents
it."""

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.step import Number


class GraphInput(BaseModel):
    name: str = Field(description="the input node's name")
    local: Number = Field(description="∂(this node)/∂(input); null where the loss is fused")


class GraphNode(BaseModel):
    name: str = Field(description="o0…, w0…, p0… (products), s (Σ), b, a (+b), o (g), E")
    op: str = Field(description="input, weight, bias, ×, Σ, +, the activation's name, or E")
    value: Number
    grad: Number = Field(description="∂E/∂(node) in this example's graph; null where fused")
    inputs: list[GraphInput]


class Factor(BaseModel):
    name: Literal["dE_do", "dg", "delta", "da_ds", "ds_dp", "dp_dw"]
    value: Number


class WeightPath(BaseModel):
    """∂E/∂w_ij along E → o_j → a_j → s → p_i → w_ij."""

    i: int = Field(description="the weight's source node in layer k−1")
    factors: list[Factor] = Field(description="∂E/∂o_j, g′(a_j), 1, 1, o_i; or δ_j (fused), …")
    term: Number = Field(description="δ_j·o_i: this example's share of ∂E/∂w_ij")
    batch: Number = Field(description="the record's ∂E/∂w_ij over the batch, penalty included")


class NeuronGraphAnswer(BaseModel):
    """Node j of layer k as micrograd draws it: o_i·w_ij, Σ, +b, g, then E."""

    layer: int
    node: int
    example: int = Field(description="the row of the last batch the graph is for")
    batch: int = Field(description="N, the last batch's size")
    step: int
    activation: str
    loss: str
    fused: bool = Field(description="δ_j = (ŷ_j − y_j)/N straight from the loss (output layer)")
    nodes: list[GraphNode]
    forward: list[str] = Field(description="node names in the forward pass's order")
    backward: list[str] = Field(description="node names in backpropagation's order")
    paths: list[WeightPath] = Field(description="one per incoming weight, i = 0..n_{k−1}−1")
    dE_db: Number = Field(description="the record's ∂E/∂b_j over the batch")
