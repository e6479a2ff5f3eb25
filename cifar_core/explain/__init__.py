"""Explain: why did a run get an image wrong? Its mistakes, and where it looked.

`mistakes` browses a run's saved test predictions (plain numpy: no model, no TensorFlow);
`saliency` draws Grad-CAM and occlusion maps from the run's model (TensorFlow imported only
inside its functions, so importing either module stays cheap).
"""
