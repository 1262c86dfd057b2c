"""Fitting a network: the training loop (``loop.train(ocr, TrainConfig)``: seeding, resume, datasets,
callbacks, wandb), its callbacks (held-out accuracy, checkpoints, resume state, history, schedule), the
optimizers by name with our Keras 3 AdaBound, and the ``tf.distribute`` strategy of the machine.
"""
