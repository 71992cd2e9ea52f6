"""Small networks shared by the tests."""
import torch.nn as nn


def small_convnet(width: int = 8) -> nn.Module:
    """Conv-BN-ReLU x2, pooling, Linear-BN1d: the layer types of a ResNet + MLP neck."""
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(2 * width, 2 * width), nn.BatchNorm1d(2 * width), nn.ReLU(),
        nn.Linear(2 * width, 4))


def train_student_steps(student: nn.Module, steps: int = 3, batch: int = 8) -> None:
    """A few SGD steps so that parameters and BN statistics move away from their init."""
    import torch
    opt = torch.optim.SGD(student.parameters(), lr=0.1)
    student.train()
    for _ in range(steps):
        loss = student(torch.randn(batch, 3, 8, 8)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
