using Distill.Configs;
using Distill.NN.Data;

namespace Distill.Engine;

/// <summary>Builds the train and test sets and their loaders from a <see cref="DataConfig"/>.</summary>
public static class DatasetFactory
{
    /// <summary>The loaders and what the model must accept.</summary>
    /// <param name="Train">Training loader (shuffled, augmented when asked).</param>
    /// <param name="Test">Test loader.</param>
    /// <param name="Channels">Image channels.</param>
    /// <param name="Classes">Class count.</param>
    /// <param name="ImageSize">Image height (= width).</param>
    public sealed record Loaders(DataLoader Train, DataLoader Test, int Channels, int Classes, int ImageSize);

    /// <summary>Reads the data set and builds the loaders (order seeded by <paramref name="seed"/>).</summary>
    /// <exception cref="DataFormatException">The files are missing or unreadable.</exception>
    public static Loaders Create(DataConfig data, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        InMemoryImageDataset train, test;
        Normalize normalize;
        int padding;
        switch (data.Dataset)
        {
            case "fashion-mnist":
                train = IdxReader.LoadFashionMnist(true, data.Root ?? IdxReader.FashionMnistDirectory);
                test = IdxReader.LoadFashionMnist(false, data.Root ?? IdxReader.FashionMnistDirectory);
                normalize = Normalize.FashionMnist;
                padding = 2;
                break;
            case "idx":
                var root = data.Root ?? throw new DataFormatException("data.root is required for dataset idx (a folder with train-images/labels and test-images/labels IDX files)");
                train = IdxReader.Load(Path.Combine(root, "train-images-idx3-ubyte.gz"), Path.Combine(root, "train-labels-idx1-ubyte.gz"), IdxReader.FashionMnistClasses);
                test = IdxReader.Load(Path.Combine(root, "t10k-images-idx3-ubyte.gz"), Path.Combine(root, "t10k-labels-idx1-ubyte.gz"), IdxReader.FashionMnistClasses);
                normalize = Normalize.FashionMnist;
                padding = 2;
                break;
            case "cifar10":
            case "cifar100":
                var folder = data.Root ?? throw new DataFormatException($"data.root is required for {data.Dataset} (the folder of the binary version)");
                var ten = data.Dataset == "cifar10";
                train = ten ? CifarReader.LoadCifar10(Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin")))
                    : CifarReader.LoadCifar100([Path.Combine(folder, "train.bin")]);
                test = ten ? CifarReader.LoadCifar10([Path.Combine(folder, "test_batch.bin")]) : CifarReader.LoadCifar100([Path.Combine(folder, "test.bin")]);
                normalize = Normalize.Cifar100;
                padding = 4;
                break;
            default:
                throw new DataFormatException($"data.dataset '{data.Dataset}' is not supported by `distill train` yet (fashion-mnist, idx, cifar10, cifar100)");
        }

        if (data.TrainSubset > 0)
        {
            train = train.Take(data.TrainSubset);
        }

        if (data.TestSubset > 0)
        {
            test = test.Take(data.TestSubset);
        }

        ITransform trainTransform = data.Augment
            ? new Compose(new RandomCrop(train.Height, train.Width, padding), new RandomHorizontalFlip(), normalize)
            : normalize;
        return new Loaders(
            new DataLoader(train, data.BatchSize, shuffle: true, seed: seed, transform: trainTransform),
            new DataLoader(test, Math.Max(data.BatchSize, 256), transform: normalize),
            train.Channels,
            train.Classes.Count,
            train.Height);
    }
}
