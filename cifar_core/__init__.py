"""Core logic of the CIFAR-10 teaching dashboard (no Streamlit in here)."""
